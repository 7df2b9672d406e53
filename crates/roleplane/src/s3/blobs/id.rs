//! Blob IDs: 26 random characters of lowercase base32 (130 bits), never derived from a bucket
//! or key, so an ID is only ever a file name and cannot reach outside the blob directory.

use std::io;

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
pub(super) const LEN: usize = 26;

/// A fresh random ID.
pub(super) fn new_id() -> io::Result<String> {
    let mut bytes = [0u8; LEN];
    getrandom::fill(&mut bytes)
        .map_err(|e| io::Error::other(format!("reading the random source: {e}")))?;
    // 256 is a multiple of 32, so masking keeps every character uniform.
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect())
}

/// Whether `id` has the shape [`new_id`] gives: what must hold before it becomes a path.
pub(super) fn is_valid(id: &str) -> bool {
    id.len() == LEN && id.bytes().all(|b| ALPHABET.contains(&b))
}

/// The fan-out directory name for a valid `id`: its first two characters.
pub(super) fn fanout(id: &str) -> &str {
    &id[..2]
}

/// Every fan-out directory name, so they can all exist before the first write.
pub(super) fn all_fanouts() -> impl Iterator<Item = String> {
    ALPHABET.iter().flat_map(|&first| {
        ALPHABET
            .iter()
            .map(move |&second| [char::from(first), char::from(second)].iter().collect())
    })
}
