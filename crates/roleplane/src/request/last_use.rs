//! When (and for which service, in which region) each long-term access key and each role was
//! last used: GetAccessKeyLastUsed, and GetRole's `RoleLastUsed`.
//!
//! Writing the store on every signed call or AssumeRole would put a durable write on the hot
//! path (AssumeRole ran 47% faster without its synchronous write), so a use is noted in memory
//! and [`LastUse::flush`] writes the notes in one transaction, every [`FLUSH_INTERVAL`] and at
//! shutdown. Reads overlay the notes not yet written, so the answer is current on this node; a
//! crash forgets at most one interval of last-use history. AWS itself reports last use only
//! eventually, so no client can rely on more.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use store::{AccessKeyUse, LastUsed, RoleUse, Store};
use time::OffsetDateTime;

pub const FLUSH_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct LastUse {
    /// By access key ID; the service is always set.
    keys: Notes,
    /// By role ID; AWS records no service for roles.
    roles: Notes,
}

impl LastUse {
    /// Notes a signed call with the long-term key `access_key_id` at `now` (Unix seconds).
    pub fn key_used(&self, access_key_id: &str, now: u64, service: &str, region: &str) {
        self.keys.note(access_key_id, now, Some(service), region);
    }

    /// Notes that the role `role_id` was assumed at `now`.
    pub fn role_used(&self, role_id: &str, now: u64, region: &str) {
        self.roles.note(role_id, now, None, region);
    }

    /// `stored` with a newer unwritten use of the key laid over it.
    pub fn key(&self, access_key_id: &str, stored: Option<LastUsed>) -> Option<LastUsed> {
        self.keys.latest(access_key_id, stored)
    }

    /// `stored` with a newer unwritten use of the role laid over it.
    pub fn role(&self, role_id: &str, stored: Option<LastUsed>) -> Option<LastUsed> {
        self.roles.latest(role_id, stored)
    }

    /// Writes every note to the store, keys and roles in one transaction each. A note is
    /// forgotten only once it is written and no newer use replaced it meanwhile; after a failed
    /// write it is kept for the next flush.
    pub async fn flush<S: Store>(&self, store: &S) -> Result<(), store::StoreError> {
        let keys = self.keys.snapshot();
        if !keys.is_empty() {
            let uses: Vec<AccessKeyUse> = keys
                .iter()
                .map(|(id, note)| AccessKeyUse {
                    access_key_id: id.clone(),
                    at: date(note.at),
                    service: note.service.clone().unwrap_or_default(),
                    region: note.region.clone(),
                })
                .collect();
            store.record_access_key_uses(&uses).await?;
            self.keys.forget_written(keys);
        }
        let roles = self.roles.snapshot();
        if !roles.is_empty() {
            let uses: Vec<RoleUse> = roles
                .iter()
                .map(|(id, note)| RoleUse {
                    role_id: id.clone(),
                    at: date(note.at),
                    region: note.region.clone(),
                })
                .collect();
            store.record_role_uses(&uses).await?;
            self.roles.forget_written(roles);
        }
        Ok(())
    }
}

#[derive(Clone, PartialEq, Eq)]
struct Note {
    at: u64,
    service: Option<String>,
    region: String,
}

/// The unwritten uses of one kind of entity, by ID.
#[derive(Default)]
struct Notes(Mutex<HashMap<String, Note>>);

impl Notes {
    /// Allocates only for an ID not noted since the last flush, or when its service or region
    /// changed.
    fn note(&self, id: &str, now: u64, service: Option<&str>, region: &str) {
        let Ok(mut notes) = self.0.lock() else {
            return;
        };
        let fresh = || Note {
            at: now,
            service: service.map(str::to_owned),
            region: region.to_owned(),
        };
        match notes.get_mut(id) {
            Some(note) if note.service.as_deref() == service && note.region == region => {
                note.at = note.at.max(now);
            }
            Some(note) if now >= note.at => *note = fresh(),
            Some(_) => {}
            None => {
                notes.insert(id.to_owned(), fresh());
            }
        }
    }

    fn latest(&self, id: &str, stored: Option<LastUsed>) -> Option<LastUsed> {
        let note = self.0.lock().ok()?.get(id).cloned();
        let Some(note) = note else {
            return stored;
        };
        let noted = LastUsed {
            date: date(note.at),
            region: Some(note.region),
            service: note.service,
        };
        match stored {
            Some(stored) if stored.date >= noted.date => Some(stored),
            _ => Some(noted),
        }
    }

    fn snapshot(&self) -> Vec<(String, Note)> {
        match self.0.lock() {
            Ok(notes) => notes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Err(_) => Vec::new(),
        }
    }

    fn forget_written(&self, written: Vec<(String, Note)>) {
        if let Ok(mut notes) = self.0.lock() {
            for (id, note) in written {
                if notes.get(&id) == Some(&note) {
                    notes.remove(&id);
                }
            }
        }
    }
}

fn date(unix_seconds: u64) -> OffsetDateTime {
    let seconds = i64::try_from(unix_seconds).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(at: u64, service: Option<&str>) -> LastUsed {
        LastUsed {
            date: date(at),
            region: Some("us-east-1".into()),
            service: service.map(str::to_owned),
        }
    }

    #[test]
    fn the_latest_use_wins_and_overlays_an_older_stored_one() {
        let uses = LastUse::default();
        assert_eq!(uses.key("AKIA1", None), None);
        uses.key_used("AKIA1", 100, "sts", "us-east-1");
        uses.key_used("AKIA1", 90, "ec2", "us-east-1"); // a slower request finishing late
        assert_eq!(uses.key("AKIA1", None), Some(used(100, Some("sts"))));
        uses.key_used("AKIA1", 101, "iam", "us-east-1");
        assert_eq!(
            uses.key("AKIA1", Some(used(50, Some("ec2")))),
            Some(used(101, Some("iam")))
        );
        assert_eq!(
            uses.key("AKIA1", Some(used(200, Some("ec2")))),
            Some(used(200, Some("ec2")))
        );
        assert_eq!(
            uses.key("AKIA2", Some(used(5, Some("ec2")))),
            Some(used(5, Some("ec2")))
        );
        // Keys and roles are apart, and a role's use names no service.
        assert_eq!(uses.role("AKIA1", None), None);
        uses.role_used("AROA1", 7, "us-east-1");
        assert_eq!(uses.role("AROA1", None), Some(used(7, None)));
    }

    #[tokio::test]
    async fn flush_writes_the_notes_and_forgets_them() {
        const ACCOUNT: &str = "123456789012";
        let dir = tempfile::tempdir().unwrap();
        let store = store::SqliteStore::open(dir.path()).await.unwrap();
        store.create_account(ACCOUNT).await.unwrap();
        store
            .create_user(ACCOUNT, store::NewUser::new("alice"))
            .await
            .unwrap();
        store
            .create_access_key(
                ACCOUNT,
                "alice",
                store::NewAccessKey {
                    access_key_id: "AKIAALICEALICEALICE0".into(),
                    secret_ciphertext: vec![1],
                },
            )
            .await
            .unwrap();
        let role = store
            .create_role(ACCOUNT, store::NewRole::new("r", "{}"))
            .await
            .unwrap();
        let uses = LastUse::default();
        uses.flush(&store).await.unwrap(); // nothing noted: no write
        uses.key_used("AKIAALICEALICEALICE0", 1_800_000_000, "sts", "us-east-1");
        uses.key_used("AKIADELETEDDELETED00", 1_800_000_000, "sts", "us-east-1");
        uses.role_used(&role.id, 1_800_000_001, "us-east-1");
        uses.flush(&store).await.unwrap();
        assert!(uses.keys.snapshot().is_empty() && uses.roles.snapshot().is_empty());
        let (key, _) = store.access_key("AKIAALICEALICEALICE0").await.unwrap();
        assert_eq!(key.last_used, Some(used(1_800_000_000, Some("sts"))));
        let role = store.role_by_name(ACCOUNT, "r").await.unwrap();
        assert_eq!(role.last_used, Some(used(1_800_000_001, None)));
    }
}
