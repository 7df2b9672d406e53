//! How the S3 objects one action touched in one bucket are written as policy resources: exact
//! keys where they stand alone, folder wildcards where several keys share a folder.
//!
//! The rule: a key is granted through the deepest folder (a prefix ending in `/`) it shares
//! with at least one other key the action touched in the same bucket, written `folder*`; a key
//! that shares no folder with another stays exact. A folder inside another one chosen for the
//! same bucket is dropped. So `app/a` and `app/b` become `app/*`; `logs/1/x`, `logs/1/y`
//! become `logs/1/*`, and with `logs/2/z` beside them all three become `logs/*`; `app/a` alone,
//! or beside `other/b`, stays as it is. Keys at the bucket's top level share no folder and stay
//! exact: the whole bucket (`bucket/*`) is never inferred from keys. The result depends only on
//! the set of keys.

use std::collections::BTreeSet;

use crate::s3::actions::{bucket_arn, object_arn};

/// One resource for some of a bucket's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyPattern<'a> {
    /// One key, as it is.
    Exact(&'a str),
    /// Every key under this folder (which ends in `/`).
    Folder(&'a str),
    /// Every object of the bucket (DeleteObjects, whose keys the record does not list).
    Everything,
}

impl KeyPattern<'_> {
    /// The object ARN in `bucket`; the key's own `*`, `?` and `$` are escaped (`${*}`, …) so the
    /// policy language reads them literally.
    pub fn arn(&self, bucket: &str) -> String {
        match self {
            KeyPattern::Exact(key) => object_arn(bucket, &literal(key)),
            KeyPattern::Folder(folder) => object_arn(bucket, &format!("{}*", literal(folder))),
            KeyPattern::Everything => format!("{}/*", bucket_arn(bucket)),
        }
    }
}

/// The patterns covering exactly `keys` by the module's rule; `everything` when some call
/// touched every object of the bucket.
pub fn group<'a>(keys: &BTreeSet<&'a str>, everything: bool) -> Vec<KeyPattern<'a>> {
    if everything {
        return vec![KeyPattern::Everything];
    }
    let keys: Vec<&str> = keys.iter().copied().collect();
    // The deepest folder a key shares with any other is the one it shares with a neighbour in
    // sorted order: a longer common prefix never gives a shallower folder.
    let shared = |i: usize| {
        let before = i
            .checked_sub(1)
            .map_or(0, |j| shared_folder(keys[j], keys[i]));
        let after = keys
            .get(i + 1)
            .map_or(0, |next| shared_folder(keys[i], next));
        before.max(after)
    };
    let mut folders = BTreeSet::new();
    let mut exact = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match shared(i) {
            0 => exact.push(KeyPattern::Exact(key)),
            len => {
                folders.insert(&key[..len]);
            }
        }
    }
    // Sorted, a folder follows the folders it lies in.
    let mut outermost: Vec<&str> = Vec::new();
    for folder in folders {
        if !outermost.iter().any(|outer| folder.starts_with(outer)) {
            outermost.push(folder);
        }
    }
    let mut patterns: Vec<KeyPattern<'_>> = outermost.into_iter().map(KeyPattern::Folder).collect();
    patterns.extend(exact);
    patterns
}

/// The length of the deepest folder `a` and `b` both lie in (through its `/`); 0 for none.
fn shared_folder(a: &str, b: &str) -> usize {
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    // `/` is ASCII, so the cut lands on a character boundary.
    a.as_bytes()[..common]
        .iter()
        .rposition(|&byte| byte == b'/')
        .map_or(0, |slash| slash + 1)
}

/// `text` with the characters the policy language gives a meaning escaped.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '*' => out.push_str("${*}"),
            '?' => out.push_str("${?}"),
            '$' => out.push_str("${$}"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arns(keys: &[&str]) -> Vec<String> {
        let keys: BTreeSet<&str> = keys.iter().copied().collect();
        group(&keys, false).iter().map(|p| p.arn("b")).collect()
    }

    #[test]
    fn keys_sharing_a_folder_become_the_folder() {
        assert_eq!(
            arns(&["app/one.txt", "app/two.txt"]),
            ["arn:aws:s3:::b/app/*"]
        );
        assert_eq!(arns(&["logs/1/x", "logs/1/y"]), ["arn:aws:s3:::b/logs/1/*"]);
    }

    #[test]
    fn a_key_that_shares_only_a_shallower_folder_widens_it() {
        assert_eq!(
            arns(&["logs/1/x", "logs/1/y", "logs/2/z"]),
            ["arn:aws:s3:::b/logs/*"]
        );
        // Two groups with nothing in common beyond the top stay two groups.
        assert_eq!(
            arns(&["a/x/1", "a/x/2", "b/y/1", "b/y/2"]),
            ["arn:aws:s3:::b/a/x/*", "arn:aws:s3:::b/b/y/*"]
        );
    }

    #[test]
    fn a_key_alone_in_its_folder_stays_exact() {
        assert_eq!(arns(&["app/one.txt"]), ["arn:aws:s3:::b/app/one.txt"]);
        assert_eq!(
            arns(&["app/a", "app/b", "other/c"]),
            ["arn:aws:s3:::b/app/*", "arn:aws:s3:::b/other/c"]
        );
        // A shared name prefix is not a folder.
        assert_eq!(
            arns(&["app-1", "app-2"]),
            ["arn:aws:s3:::b/app-1", "arn:aws:s3:::b/app-2"]
        );
    }

    #[test]
    fn top_level_keys_never_widen_to_the_whole_bucket() {
        assert_eq!(
            arns(&["a.txt", "b.txt", "dir/c"]),
            [
                "arn:aws:s3:::b/a.txt",
                "arn:aws:s3:::b/b.txt",
                "arn:aws:s3:::b/dir/c"
            ]
        );
    }

    #[test]
    fn every_object_covers_the_keys_too() {
        let keys: BTreeSet<&str> = ["app/a", "app/b"].into_iter().collect();
        assert_eq!(group(&keys, true), [KeyPattern::Everything]);
        assert_eq!(KeyPattern::Everything.arn("b"), "arn:aws:s3:::b/*");
    }

    #[test]
    fn wildcards_and_variables_in_keys_are_read_literally() {
        assert_eq!(arns(&["a*b?c${x}"]), ["arn:aws:s3:::b/a${*}b${?}c${$}{x}"]);
        assert_eq!(arns(&["f*/1", "f*/2"]), ["arn:aws:s3:::b/f${*}/*"]);
    }

    #[test]
    fn the_result_depends_only_on_the_set() {
        let forward = arns(&["z/1", "a/1", "a/2", "m/x/1", "m/y/2", "z/2/3"]);
        let backward = arns(&["z/2/3", "m/y/2", "m/x/1", "a/2", "a/1", "z/1"]);
        assert_eq!(forward, backward);
        assert_eq!(
            forward,
            [
                "arn:aws:s3:::b/a/*",
                "arn:aws:s3:::b/m/*",
                "arn:aws:s3:::b/z/*"
            ]
        );
    }

    #[test]
    fn keys_with_multibyte_characters_cut_at_their_folders() {
        assert_eq!(arns(&["é/à", "é/ç"]), ["arn:aws:s3:::b/é/*"]);
        assert_eq!(
            arns(&["éa", "éb"]),
            ["arn:aws:s3:::b/éa", "arn:aws:s3:::b/éb"]
        );
    }
}
