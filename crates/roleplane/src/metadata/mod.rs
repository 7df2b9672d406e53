//! The server side of the instance metadata service: which instance a connection belongs to,
//! and the role credentials EC2 issues on each instance's behalf.

pub mod credentials;
