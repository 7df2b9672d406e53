//! Target `query_input`: a form body read the way IAM, STS and EC2 operations read their input
//! once the query dialect has decoded it (the decoding itself is `protocol`'s `query` target):
//! IAM's model checks and its pages (the store's `Marker`, offsets into lists held whole), STS
//! tags, policy ARNs and transitive keys, EC2 filters, lists and `NextToken`.

use sigv4::HttpRequest;

use protocol::query::Query;
use protocol::{Dialect, Envelope, Params, Protocol, Violations};

use crate::ec2::{filters, pages};
use crate::iam::paging;
use crate::iam::validate::{Input, Name};
use crate::sts::input as sts_input;

pub fn query_input(data: &[u8]) {
    let http = HttpRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &[],
        body: data,
    };
    for envelope in [Envelope::IAM, Envelope::EC2] {
        let dialect = Query(envelope);
        let result = match dialect.decode(&http) {
            Ok((_, params)) => read(&params),
            Err(error) => Err(error),
        };
        let _ = dialect.render(result.map(|()| String::new()), "FUZZ");
    }
}

/// What IAM, STS and EC2 operations read from their parameters.
fn read(params: &Params) -> Result<(), protocol::AwsError> {
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
            let _ = input.optional_path("NewPath");
            let _ = input.account_alias("AccountAlias");
            let page = input.list_query("/");
            let _ = input.tags("Tags", false);
            let _ = input.tag_keys("TagKeys");
            let _ = input.finish();
            // The marker as the store reads it, and as an offset into a list held whole.
            let _ = page.checked_bounds();
            let _ = paging::page((0..5).collect::<Vec<u32>>(), &page);
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
            let ids = params.list_str("InstanceId")?;
            let _ = params.optional_bool("DryRun")?;
            let _ = params.optional_timestamp("StartTime")?;
            let _ = params.map_str("Tag")?;
            // `NextToken` names the last item shown: the request's own IDs are in the list.
            let items: Vec<&str> = ["i-1", "i-2", "i-3"].into_iter().chain(ids).collect();
            let _ = pages::page(params, items, |item| item)?;
            Ok(())
        }
    }
}
