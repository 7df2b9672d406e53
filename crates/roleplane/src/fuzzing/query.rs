//! Target `query`: a form body as awsQuery (IAM, STS) and ec2Query (EC2) decode it, then read
//! the way operations read their input.

use sigv4::HttpRequest;

use crate::ec2::filters;
use crate::iam::validate::{Input, Name};
use crate::protocol::query::{Query, envelope_for_body};
use crate::protocol::{Dialect, Envelope, Params, Protocol, Violations};
use crate::sts::input as sts_input;

/// The form travels in the body and, when it is text, in the query string too (presigned
/// requests carry it there).
pub fn query(data: &[u8]) {
    let text = std::str::from_utf8(data).unwrap_or("");
    for (body, query) in [(data, ""), (&b""[..], text)] {
        let http = HttpRequest {
            method: "POST",
            path: "/",
            query,
            headers: &[],
            body,
        };
        let _ = envelope_for_body(&http);
        for envelope in [Envelope::IAM, Envelope::STS, Envelope::EC2] {
            let dialect = Query(envelope);
            let result = match dialect.decode(&http) {
                Ok((_, params)) => read(&params),
                Err(error) => Err(error),
            };
            let _ = dialect.render(result.map(|()| String::new()), "FUZZ");
        }
    }
}

/// What IAM, STS and EC2 operations read from their parameters.
fn read(params: &Params) -> Result<(), crate::protocol::AwsError> {
    let _ = (params.action(), params.version(), params.iam_page());
    match params.protocol() {
        Protocol::AwsQuery => {
            let mut input = Input::new(params);
            let _ = input.name("RoleName", Name { max: 64 });
            let _ = input.path("Path");
            let _ = input.path_prefix("PathPrefix");
            let _ = input.document("AssumeRolePolicyDocument");
            let _ = input.role_description("Description");
            let _ = input.optional_arn("PolicyArn");
            let _ = input.integer("MaxSessionDuration", 3600, 43200);
            let _ = input.boolean("SetAsDefault");
            let _ = input.list_query("/");
            let _ = input.tags("Tags", false);
            let _ = input.tag_keys("TagKeys");
            let _ = input.finish();
            let mut violations = Violations::new();
            let tags = sts_input::tags(params.root(), &mut violations)?;
            let _ = sts_input::reject_reserved_tag_keys(&tags);
            let _ = sts_input::transitive_tag_keys(params.root(), &mut violations)?;
            let _ = sts_input::policy_arns(params.root(), &mut violations)?;
            violations.into_result()
        }
        Protocol::Ec2Query => {
            let filters = filters::parse(params)?;
            let _ = filters::check_instance_filters(&filters);
            let _ = filters::instance_conditions(&filters);
            let _ = filters::association_filters(&filters);
            let _ = params.list_str("InstanceId")?;
            let _ = params.optional_i32("MaxResults", 5..=1000)?;
            let _ = params.optional_bool("DryRun")?;
            let _ = params.optional_timestamp("StartTime")?;
            let _ = params.map_str("Tag")?;
            Ok(())
        }
    }
}
