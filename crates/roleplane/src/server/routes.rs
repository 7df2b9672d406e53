//! The routing table: which service serves a credential scope's service name, and who answers a
//! request without a signature. Adding a service is its own folder plus one row here and one in
//! [`operations`].

use protocol::query::{Query, envelope_for_body};
use protocol::{AwsError, Dialect, Protocol, Rendered};
use sigv4::{Authorization, ErrorDialect, HttpRequest, SigV4Error};
use store::Store;

use super::pipeline::{Arrival, serve as run};
use crate::audit::CallRecord;
use crate::request::App;
use crate::{agent_api, analyzer, cloudtrail, ec2, iam, s3, sts};

/// Serves a signed request with the service its scope names; `None` when none is served here.
pub async fn serve<S: Store>(
    app: &App<S>,
    http: &HttpRequest<'_>,
    claim: &Authorization<'_>,
    arrival: &Arrival<'_>,
    record: &mut CallRecord,
) -> Option<Rendered> {
    Some(match claim.scope().service {
        iam::SERVICE => run(app, &iam::Iam, http, claim, arrival, record).await,
        sts::SERVICE => run(app, &sts::Sts, http, claim, arrival, record).await,
        ec2::SERVICE => run(app, &ec2::Ec2, http, claim, arrival, record).await,
        cloudtrail::SERVICE => {
            run(app, &cloudtrail::CloudTrail, http, claim, arrival, record).await
        }
        analyzer::SERVICE => {
            run(app, &analyzer::AccessAnalyzer, http, claim, arrival, record).await
        }
        // roleplane's own, for hosts' metadata agents alone (decision 0028).
        agent_api::SERVICE => run(app, &agent_api::AgentApi, http, claim, arrival, record).await,
        _ => return None,
    })
}

/// A request without a usable signature. One without any signature may be STS's
/// `AssumeRoleWithWebIdentity`, which AWS serves unsigned (`sts::serve_unsigned`); every other
/// is refused, in the query dialect its API version names (what the client will parse). S3's
/// anonymous requests never come here (the pipeline sends them to S3 by their shape).
pub async fn serve_unsigned<S: Store>(
    app: &App<S>,
    http: &HttpRequest<'_>,
    error: SigV4Error,
    arrival: &Arrival<'_>,
    record: &mut CallRecord,
) -> Rendered {
    if error == SigV4Error::MissingAuthenticationToken
        && let Some(rendered) = sts::serve_unsigned(
            app,
            http,
            arrival.peer,
            arrival.now,
            arrival.request_id,
            record,
        )
        .await
    {
        return rendered;
    }
    let dialect = Query(envelope_for_body(http));
    let wording = match dialect.0.protocol {
        Protocol::AwsQuery => ErrorDialect::Query,
        Protocol::Ec2Query => ErrorDialect::Ec2,
    };
    let err = AwsError::sender(
        error.code(wording),
        error.status(wording),
        error.message(wording),
    );
    record.failed(&err);
    dialect.render(Err(err), arrival.request_id)
}

/// The agent API's operations (not AWS's: a host agent may call these and nothing of
/// [`operations`]).
pub fn agent_operations() -> (&'static str, &'static [&'static str]) {
    (agent_api::SERVICE, agent_api::OPERATIONS)
}

/// Every AWS operation served, by the signing name of the service that serves it.
pub fn operations() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        (iam::SERVICE, iam::OPERATIONS),
        (sts::SERVICE, sts::OPERATIONS),
        (ec2::SERVICE, ec2::OPERATIONS),
        (cloudtrail::SERVICE, cloudtrail::OPERATIONS),
        (analyzer::SERVICE, analyzer::OPERATIONS),
        (s3::SERVICE, s3::OPERATIONS),
    ]
}
