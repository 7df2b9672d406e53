//! Target `pagination`: the bytes as every pagination marker a client hands back: IAM's `Marker`
//! (validated, then decoded by the store, or an offset into a whole list), CloudTrail's
//! `NextToken`, S3's continuation token and EC2's `NextToken` with `MaxResults`.

use store::ListQuery;

use crate::cloudtrail::token;
use crate::ec2::pages;
use crate::iam::paging;
use crate::iam::validate::Input;
use crate::protocol::{Params, Protocol};
use crate::s3::ops::listing;

pub fn pagination(data: &[u8]) {
    let Ok(marker) = std::str::from_utf8(data) else {
        return;
    };
    let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };

    // IAM: the model's check, the store's marker, and offsets into a list held whole.
    if let Ok(params) = Params::from_pairs(
        Protocol::AwsQuery,
        owned(&[
            ("Action", "ListRoles"),
            ("Marker", marker),
            ("MaxItems", "2"),
        ]),
    ) {
        let mut input = Input::new(&params);
        let query = input.list_query("/");
        let _ = input.finish();
        let _ = query.checked_bounds();
        let _ = paging::page((0..5).collect::<Vec<u32>>(), &query);
    }
    let _ = paging::page(
        vec![1, 2, 3],
        &ListQuery::max_items(2).after(Some(marker.into())),
    );

    // CloudTrail: a token is only good for the question it answered.
    for fingerprint in [0, token::fingerprint(&[b"EventName", b"GetRole"])] {
        if let Some(position) = token::decode(marker, fingerprint) {
            let again = token::decode(&token::encode(position, fingerprint), fingerprint);
            assert_eq!(again, Some(position), "NextToken round trip");
        }
    }

    // S3 ListObjectsV2.
    if let Ok(last) = listing::decode_token(marker) {
        let again = listing::decode_token(&listing::encode_token(&last)).ok();
        assert_eq!(again.as_ref(), Some(&last), "continuation token round trip");
    }

    // EC2: the token names the last item shown; the first bytes double as MaxResults.
    let max = marker.get(..2).unwrap_or("5");
    for max_results in ["5", max] {
        if let Ok(params) = Params::from_pairs(
            Protocol::Ec2Query,
            owned(&[
                ("Action", "DescribeInstances"),
                ("NextToken", marker),
                ("MaxResults", max_results),
            ]),
        ) {
            let items: Vec<String> = ["i-1", "i-2", "i-3", marker].map(str::to_owned).into();
            let _ = pages::page(&params, items, |item| item.as_str());
        }
    }
}
