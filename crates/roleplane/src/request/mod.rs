//! The per-request layer every service stands on: the application state ([`App`]), the call a
//! service operation receives ([`Call`]), who is calling ([`authenticate`]; host agents,
//! which may call nothing, in [`host_agent`]), may they ([`authz`]), the caches behind both,
//! request IDs and the notes of keys' and roles' last use.
//!
//! Services import this layer and never the server above it; the server's pipeline builds a
//! [`Call`] and hands it to a service.

mod app;
mod auth;
pub mod authz;
pub mod failure_limits;
pub mod host_agent;
mod key_cache;
pub mod last_use;
pub mod min_rate;
mod policy_cache;
pub mod request_id;
mod scope_region;
mod service;

use std::net::SocketAddr;

pub use app::{App, open_secret, seal_secret};
pub use auth::{
    Caller, Identity, KeyRefusal, LongTermKey, SessionRefusal, authenticate, caller_of_key,
    caller_of_session, invalid_token, long_term_key, open_session,
};
pub use host_agent::HostAgent;
pub use key_cache::CachedKey;
pub use policy_cache::GenerationCache;
pub use service::{Callers, Failure, Input, Service};

use protocol::Params;

/// One operation call, as the service that serves it receives it: the application, the
/// authenticated caller, the operation's name and its decoded input (`Params` for the query
/// protocols, the JSON body or the REST request for the JSON ones).
pub struct Call<'a, S, I = Params> {
    pub app: &'a App<S>,
    pub caller: &'a Caller,
    /// The operation's name, as the wire names it (`GetUser`, `LookupEvents`, …).
    pub operation: &'a str,
    pub input: &'a I,
    pub request_id: &'a str,
    pub peer: SocketAddr,
    /// Seconds since the epoch when the request arrived (one clock read per request).
    pub now: u64,
}
