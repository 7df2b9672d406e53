//! When, for which service and in which region each long-term access key was last used
//! (GetAccessKeyLastUsed).
//!
//! Writing the store on every signed call would put a durable write on the hot path, so a use
//! is noted in memory and [`KeyUses::flush`] writes the notes in one transaction, every
//! [`FLUSH_INTERVAL`] and at shutdown. Reads overlay the notes not yet written, so the answer
//! is current on this node; a crash forgets at most one interval of last-use history. AWS
//! itself reports last use only eventually, so no client can rely on more.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use store::{AccessKeyUse, LastUsed, Store};
use time::OffsetDateTime;

pub const FLUSH_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Clone, PartialEq, Eq)]
struct Note {
    at: u64,
    service: String,
    region: String,
}

#[derive(Default)]
pub struct KeyUses {
    notes: Mutex<HashMap<String, Note>>,
}

impl KeyUses {
    /// Notes a use of `access_key_id` at `now` (Unix seconds). Allocates only for a key not
    /// noted since the last flush, or when its service or region changed.
    pub fn note(&self, access_key_id: &str, now: u64, service: &str, region: &str) {
        let Ok(mut notes) = self.notes.lock() else {
            return;
        };
        match notes.get_mut(access_key_id) {
            Some(note) if note.service == service && note.region == region => {
                note.at = note.at.max(now);
            }
            Some(note) if now >= note.at => {
                *note = Note {
                    at: now,
                    service: service.to_owned(),
                    region: region.to_owned(),
                };
            }
            Some(_) => {}
            None => {
                notes.insert(
                    access_key_id.to_owned(),
                    Note {
                        at: now,
                        service: service.to_owned(),
                        region: region.to_owned(),
                    },
                );
            }
        }
    }

    /// `stored` with a newer unwritten use of the key laid over it.
    pub fn latest(&self, access_key_id: &str, stored: Option<LastUsed>) -> Option<LastUsed> {
        let note = self.notes.lock().ok()?.get(access_key_id).cloned();
        let Some(note) = note else {
            return stored;
        };
        let noted = LastUsed {
            date: date(note.at),
            region: Some(note.region),
            service: Some(note.service),
        };
        match stored {
            Some(stored) if stored.date >= noted.date => Some(stored),
            _ => Some(noted),
        }
    }

    /// Writes every note to the store in one transaction. A note is forgotten only once it is
    /// written and no newer use replaced it meanwhile; after a failed write it is kept for the
    /// next flush.
    pub async fn flush<S: Store>(&self, store: &S) -> Result<(), store::StoreError> {
        let snapshot: Vec<(String, Note)> = match self.notes.lock() {
            Ok(notes) => notes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Err(_) => return Ok(()),
        };
        if snapshot.is_empty() {
            return Ok(());
        }
        let uses: Vec<AccessKeyUse> = snapshot
            .iter()
            .map(|(key, note)| AccessKeyUse {
                access_key_id: key.clone(),
                at: date(note.at),
                service: note.service.clone(),
                region: note.region.clone(),
            })
            .collect();
        store.record_access_key_uses(&uses).await?;
        if let Ok(mut notes) = self.notes.lock() {
            for (key, written) in snapshot {
                if notes.get(&key) == Some(&written) {
                    notes.remove(&key);
                }
            }
        }
        Ok(())
    }
}

fn date(unix_seconds: u64) -> OffsetDateTime {
    let seconds = i64::try_from(unix_seconds).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(at: u64, service: &str) -> LastUsed {
        LastUsed {
            date: date(at),
            region: Some("us-east-1".into()),
            service: Some(service.into()),
        }
    }

    #[test]
    fn the_latest_use_wins_and_overlays_an_older_stored_one() {
        let uses = KeyUses::default();
        assert_eq!(uses.latest("AKIA1", None), None);
        uses.note("AKIA1", 100, "sts", "us-east-1");
        uses.note("AKIA1", 90, "ec2", "us-east-1"); // a slower request finishing late
        assert_eq!(uses.latest("AKIA1", None), Some(used(100, "sts")));
        uses.note("AKIA1", 101, "iam", "us-east-1");
        assert_eq!(
            uses.latest("AKIA1", Some(used(50, "ec2"))),
            Some(used(101, "iam"))
        );
        assert_eq!(
            uses.latest("AKIA1", Some(used(200, "ec2"))),
            Some(used(200, "ec2"))
        );
        assert_eq!(
            uses.latest("AKIA2", Some(used(5, "ec2"))),
            Some(used(5, "ec2"))
        );
    }

    #[tokio::test]
    async fn flush_writes_the_notes_and_forgets_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::SqliteStore::open(dir.path()).await.unwrap();
        store.create_account("123456789012").await.unwrap();
        store
            .create_user("123456789012", store::NewUser::new("alice"))
            .await
            .unwrap();
        store
            .create_access_key(
                "123456789012",
                "alice",
                store::NewAccessKey {
                    access_key_id: "AKIAALICEALICEALICE0".into(),
                    secret_ciphertext: vec![1],
                },
            )
            .await
            .unwrap();
        let uses = KeyUses::default();
        uses.flush(&store).await.unwrap(); // nothing noted: no write
        uses.note("AKIAALICEALICEALICE0", 1_800_000_000, "sts", "us-east-1");
        uses.note("AKIADELETEDDELETED00", 1_800_000_000, "sts", "us-east-1");
        uses.flush(&store).await.unwrap();
        assert!(uses.notes.lock().unwrap().is_empty());
        let (key, _) = store.access_key("AKIAALICEALICEALICE0").await.unwrap();
        assert_eq!(key.last_used, Some(used(1_800_000_000, "sts")));
        assert_eq!(
            uses.latest("AKIAALICEALICEALICE0", key.last_used.clone()),
            key.last_used
        );
    }
}
