//! What a service is to the request pipeline: its name in the credential scope, its wire
//! dialect, the operations it serves, and the call that serves one.

use std::future::Future;

use protocol::Dialect;
use store::Store;

use super::Call;

/// The input and error types of a service's dialect.
pub type Input<V, S> = <<V as Service<S>>::Dialect as Dialect>::Input;
pub type Failure<V, S> = <<V as Service<S>>::Dialect as Dialect>::Error;

/// Who may call a service's operations at all, before any policy is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callers {
    /// IAM identities (users and sessions): every AWS service. A host's agent credential is
    /// refused (`host_agent::refuse`).
    Principals,
    /// Hosts' agents alone: roleplane's agent API. Users and sessions are refused.
    HostAgents,
}

pub trait Service<S: Store>: Send + Sync {
    type Dialect: Dialect;

    /// The SigV4 signing name, as the credential scope carries it (`iam`, `cloudtrail`, …).
    const NAME: &'static str;

    /// Who may call it; every AWS service is for IAM identities.
    const CALLERS: Callers = Callers::Principals;

    fn dialect(&self) -> &Self::Dialect;

    /// Every operation served. The pipeline refuses any other before the service sees it, so
    /// an operation added to the service alone cannot be reached (and the cross-account walk,
    /// which covers this list, fails until it is added here).
    fn operations(&self) -> &'static [&'static str];

    /// Serves one authenticated call of a listed operation: the encoded output, or why not.
    fn call<'a>(
        &'a self,
        call: &'a Call<'a, S, Input<Self, S>>,
    ) -> impl Future<Output = Result<String, Failure<Self, S>>> + Send + 'a;
}
