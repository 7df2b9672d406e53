//! Target `pagination`: the bytes as each pagination token a client hands back: CloudTrail's
//! `NextToken` and S3's continuation token (decoded, round trips asserted), and IAM's `Marker`
//! / `MaxItems` and EC2's `NextToken` / `MaxResults` as the query dialects read them. (What
//! IAM and EC2 then make of a marker, the store's marker and offsets into lists, is fuzzed in
//! `roleplane`'s `query_input`.)

use crate::markers::{list_objects, lookup_events};
use crate::{Params, Protocol};

pub fn pagination(data: &[u8]) {
    let Ok(marker) = std::str::from_utf8(data) else {
        return;
    };

    // CloudTrail: a token is only good for the question it answered.
    for fingerprint in [0, lookup_events::fingerprint(&[b"EventName", b"GetRole"])] {
        if let Some(place) = lookup_events::decode(marker, fingerprint) {
            let again =
                lookup_events::decode(&lookup_events::encode(place, fingerprint), fingerprint);
            assert_eq!(again, Some(place), "NextToken round trip");
        }
    }

    // S3 ListObjectsV2.
    if let Some(last) = list_objects::decode(marker) {
        let again = list_objects::decode(&list_objects::encode(&last));
        assert_eq!(again.as_ref(), Some(&last), "continuation token round trip");
    }

    // IAM and EC2: the first bytes double as the page size.
    let size = marker.get(..2).unwrap_or("5");
    let owned = |pairs: [(&str, &str); 3]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    if let Ok(params) = Params::from_pairs(
        Protocol::AwsQuery,
        owned([
            ("Action", "ListRoles"),
            ("Marker", marker),
            ("MaxItems", size),
        ]),
    ) {
        let _ = params.iam_page();
    }
    if let Ok(params) = Params::from_pairs(
        Protocol::Ec2Query,
        owned([
            ("Action", "DescribeInstances"),
            ("NextToken", marker),
            ("MaxResults", size),
        ]),
    ) {
        let _ = params.optional_i32("MaxResults", 5..=1000);
        let _ = params.optional_str("NextToken");
    }
}
