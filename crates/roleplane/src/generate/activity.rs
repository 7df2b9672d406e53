//! What one principal did in a time window, folded record by record. A role's activity is every
//! session's: the log's principal column holds the role ARN for each of them, whichever
//! instance or caller the session belongs to.

use std::collections::{BTreeMap, BTreeSet};

use store::audit::Event;

use super::observed::{self, PassedRole, Touched};

/// What S3 checks on a copy's source object.
const COPY_SOURCE_ACTION: &str = "s3:GetObject";

/// Inclusive bounds, epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Window {
    pub fn contains(&self, at_ms: i64) -> bool {
        (self.start_ms..=self.end_ms).contains(&at_ms)
    }
}

#[derive(Debug, Clone)]
pub struct Activity {
    principal: String,
    window: Window,
    /// Action → the resources it was used on.
    actions: BTreeMap<String, BTreeSet<Touched>>,
    /// `(service, role)` for each role handed to a service.
    passed: BTreeSet<(&'static str, PassedRole)>,
    /// `(account, profile)` → role name, as `AddRoleToInstanceProfile` calls set them.
    profile_roles: BTreeMap<(String, String), String>,
    denied: BTreeMap<String, u64>,
    failed: BTreeMap<String, u64>,
    scanned: u64,
    used: u64,
    /// Of `used`, the data events (S3 object-level calls).
    data_events: u64,
}

impl Activity {
    pub fn new(principal: &str, window: Window) -> Self {
        Self {
            principal: principal.to_owned(),
            window,
            actions: BTreeMap::new(),
            passed: BTreeSet::new(),
            profile_roles: BTreeMap::new(),
            denied: BTreeMap::new(),
            failed: BTreeMap::new(),
            scanned: 0,
            used: 0,
            data_events: 0,
        }
    }

    /// Takes one record of the log into account. Records of other principals, or outside the
    /// window, are counted as scanned and otherwise ignored.
    pub fn add(&mut self, event: &Event) {
        self.scanned += 1;
        if event.principal_arn.as_deref() != Some(self.principal.as_str())
            || !self.window.contains(event.event_time_ms)
        {
            return;
        }
        if let Some(code) = &event.error_code {
            let action = observed::action(&event.event_source, &event.event_name);
            let tally = if is_denial(code) {
                &mut self.denied
            } else {
                &mut self.failed
            };
            *tally.entry(action).or_default() += 1;
            return;
        }
        self.used += 1;
        if !event.management {
            self.data_events += 1;
        }
        let seen = observed::observe(
            &event.event_source,
            &event.event_name,
            &event.account_id,
            &event.record,
        );
        self.actions
            .entry(seen.action)
            .or_default()
            .extend(seen.resources);
        if let Some(source) = seen.copied_from {
            self.actions
                .entry(COPY_SOURCE_ACTION.to_owned())
                .or_default()
                .insert(source);
        }
        if let Some(passed) = seen.passed {
            self.passed.insert(passed);
        }
        if let Some((profile, role)) = seen.profile_role {
            self.profile_roles
                .insert((event.account_id.clone(), profile), role);
        }
    }

    /// Takes in what another part of the same scan saw (same principal and window).
    pub fn merge(&mut self, other: Activity) {
        for (action, touched) in other.actions {
            self.actions.entry(action).or_default().extend(touched);
        }
        self.passed.extend(other.passed);
        self.profile_roles.extend(other.profile_roles);
        for (mine, theirs) in [
            (&mut self.denied, other.denied),
            (&mut self.failed, other.failed),
        ] {
            for (action, n) in theirs {
                *mine.entry(action).or_default() += n;
            }
        }
        self.scanned += other.scanned;
        self.used += other.used;
        self.data_events += other.data_events;
    }

    pub fn principal(&self) -> &str {
        &self.principal
    }

    pub fn window(&self) -> Window {
        self.window
    }

    pub fn actions(&self) -> &BTreeMap<String, BTreeSet<Touched>> {
        &self.actions
    }

    pub fn passed(&self) -> &BTreeSet<(&'static str, PassedRole)> {
        &self.passed
    }

    /// The role name a profile was given by this principal's own calls, if it did that.
    pub fn profile_role(&self, account: &str, profile: &str) -> Option<&str> {
        self.profile_roles
            .get(&(account.to_owned(), profile.to_owned()))
            .map(String::as_str)
    }

    /// Every resource named anywhere, for [`Directory::load`](super::Directory::load).
    pub fn touched(&self) -> impl Iterator<Item = &Touched> {
        self.actions.values().flatten()
    }

    /// Passed roles, for [`Directory::load`](super::Directory::load).
    pub fn passed_roles(&self) -> impl Iterator<Item = &PassedRole> {
        self.passed.iter().map(|(_, role)| role)
    }

    /// Denied calls by action: left out of the policy.
    pub fn denied(&self) -> &BTreeMap<String, u64> {
        &self.denied
    }

    /// Calls that failed for other reasons, by action: left out of the policy.
    pub fn failed(&self) -> &BTreeMap<String, u64> {
        &self.failed
    }

    /// Records looked at.
    pub fn scanned(&self) -> u64 {
        self.scanned
    }

    /// Successful calls of the principal in the window.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Of [`Self::used`], the CloudTrail data events (S3's object-level calls): activity AWS's
    /// Access Analyzer would not have seen.
    pub fn data_events(&self) -> u64 {
        self.data_events
    }
}

/// Authorization failures, as each protocol codes them (EC2's with CloudTrail's `Client.`).
fn is_denial(code: &str) -> bool {
    let code = code.strip_prefix("Client.").unwrap_or(code);
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
    )
}
