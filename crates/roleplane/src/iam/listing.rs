//! The shape every `List*` of entities under a path prefix shares (ListRoles, ListUsers,
//! ListInstanceProfiles): read `PathPrefix`, `Marker` and `MaxItems`, authorize on the prefix's
//! ARN, and write one page of members with `IsTruncated`/`Marker`.

use protocol::{AwsError, XmlWriter};
use store::{ListQuery, Page, Store};

use super::access::authorize;
use super::validate::Input;
use super::{arn, respond};
use crate::request::Call;

/// The query a listing of `kind` (`role`, `user`, `instance-profile`) asks for, once the caller
/// may list under its path prefix.
pub async fn query<S: Store>(call: &Call<'_, S>, kind: &str) -> Result<ListQuery, AwsError> {
    let mut input = Input::new(call.input);
    let prefix = input.path_prefix("PathPrefix");
    let query = input.list_query(prefix);
    input.finish()?;
    authorize(call, &arn(call, kind, prefix, ""), Vec::new()).await?;
    Ok(query)
}

/// The response: `element` holding one `member` per item, then the truncation members.
pub fn page<S, T>(
    call: &Call<'_, S>,
    element: &str,
    page: &Page<T>,
    member: impl Fn(&mut XmlWriter, &T),
) -> String {
    respond(call, |x| {
        x.list(element, "member", &page.items, member)
            .truncation(page.next_marker.as_deref());
    })
}
