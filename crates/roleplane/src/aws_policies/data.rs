//! The data file's layout (written by `scripts/managed-policies/convert.py`, which describes
//! it): a metadata frame read whole on first use, and one zstd frame per policy holding its
//! distinct documents, read only when one of them is needed.

use std::ops::Range;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const MAGIC: &[u8; 8] = b"RPAWSMP1";

/// Decoded frames are bounded: the largest policy's documents are a few hundred KiB, the
/// metadata well under one MiB, so a corrupt frame cannot make the server allocate without end.
const MAX_FRAME: u64 = 64 << 20;

/// One policy as the metadata frame describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub path: String,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
    pub default_version_id: String,
    /// Oldest first.
    pub versions: Vec<Version>,
    /// Where the policy's documents frame lies in the file.
    pub frame: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub id: String,
    pub created: OffsetDateTime,
    /// Index of the document in the policy's frame.
    pub document: usize,
}

/// The metadata: the source package (`<name> <version>`) and every policy, as the data file
/// holds them (by lower-cased name; the catalogue re-sorts them by creation).
pub fn metadata(file: &[u8]) -> Result<(String, Vec<Entry>), String> {
    let rest = file
        .strip_prefix(MAGIC.as_slice())
        .ok_or("not an AWS managed policies data file")?;
    let (length, rest) = rest.split_first_chunk::<4>().ok_or("truncated header")?;
    let length = u32::from_le_bytes(*length) as usize;
    let frames_start = MAGIC.len() + 4 + length;
    let frame = rest.get(..length).ok_or("truncated metadata")?;
    let text = String::from_utf8(decompress(frame)?).map_err(|_| "metadata is not UTF-8")?;
    let mut lines = text.lines();
    let source = lines.next().ok_or("empty metadata")?.to_owned();
    let entries = lines
        .map(|line| entry(line, frames_start, file.len()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((source, entries))
}

fn entry(line: &str, frames_start: usize, file_len: usize) -> Result<Entry, String> {
    let bad = || format!("bad metadata line: {line:.80}");
    let fields: Vec<&str> = line.split('\t').collect();
    let [
        name,
        path,
        created,
        updated,
        default,
        offset,
        length,
        versions,
    ] = fields[..]
    else {
        return Err(bad());
    };
    let number = |s: &str| s.parse::<usize>().map_err(|_| bad());
    let start = frames_start + number(offset)?;
    let frame = start..start + number(length)?;
    if frame.end > file_len {
        return Err(bad());
    }
    let versions = versions
        .split(';')
        .map(|v| match v.split(',').collect::<Vec<_>>()[..] {
            [id, created, document] => Ok(Version {
                id: id.to_owned(),
                created: date(created).ok_or_else(bad)?,
                document: number(document)?,
            }),
            _ => Err(bad()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Entry {
        name: name.to_owned(),
        path: path.to_owned(),
        created: date(created).ok_or_else(bad)?,
        updated: date(updated).ok_or_else(bad)?,
        default_version_id: default.to_owned(),
        versions,
        frame,
    })
}

fn date(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// The documents of one policy's frame, in the order its versions' indexes count.
pub fn documents(file: &[u8], frame: &Range<usize>) -> Result<Vec<String>, String> {
    let bytes = file.get(frame.clone()).ok_or("frame out of range")?;
    let text = String::from_utf8(decompress(bytes)?).map_err(|_| "documents are not UTF-8")?;
    Ok(text.split('\0').map(str::to_owned).collect())
}

fn decompress(frame: &[u8]) -> Result<Vec<u8>, String> {
    // One pass into a buffer of the size the frame header states: no window buffer, so the
    // only memory left behind is what the caller keeps.
    let size = zstd::zstd_safe::get_frame_content_size(frame)
        .ok()
        .flatten()
        .filter(|&size| size <= MAX_FRAME)
        .ok_or("a frame without a size, or too large")?;
    zstd::bulk::decompress(frame, size as usize).map_err(|e| e.to_string())
}
