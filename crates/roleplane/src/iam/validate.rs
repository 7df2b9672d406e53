//! Request validation as IAM's model (botocore `iam/2010-05-08/service-2.json`) states it.
//!
//! Every member's constraints are checked and all violations are reported together in one
//! `ValidationError`, the way AWS's Coral front end words them:
//! `2 validation errors detected: Value '' at 'roleName' failed to satisfy constraint: …`.

use protocol::{AwsError, Params, Scope, Violations};
use store::{ListQuery, Tag};

use crate::tag_rules;

/// `roleNameType`, `userNameType`: 1–64 of `[\w+=,.@-]+`.
pub const SHORT_NAME: Name = Name { max: 64 };
/// `policyNameType`, `instanceProfileNameType`, `existingUserNameType`: 1–128.
pub const LONG_NAME: Name = Name { max: 128 };

const NAME_PATTERN: &str = r"[\w+=,.@-]+";
const PATH_PATTERN: &str = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)";
const PATH_PREFIX_PATTERN: &str = r"\u002F[\u0021-\u007F]*";
const POLICY_PATH_PATTERN: &str = r"((/[A-Za-z0-9\.,\+@=_-]+)*)/";
const DOCUMENT_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";
const ROLE_DESCRIPTION_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*";
const MARKER_PATTERN: &str = r"[\u0020-\u00FF]+";
const ACCESS_KEY_ID_PATTERN: &str = r"[\w]+";
const ACCOUNT_ALIAS_PATTERN: &str = r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$";

/// Tags per request and per entity.
pub const MAX_TAGS: usize = 50;
/// `policyDocumentType`'s maximum length.
pub const MAX_DOCUMENT_CHARS: usize = 131_072;

/// A name shape: `[\w+=,.@-]+` up to `max` characters.
#[derive(Debug, Clone, Copy)]
pub struct Name {
    pub max: usize,
}

/// Reads a request's members while collecting every model violation.
pub struct Input<'a> {
    params: &'a Params,
    violations: Violations,
    /// A list that could not be read at all (a malformed index): reported on its own.
    unreadable: Option<AwsError>,
}

impl<'a> Input<'a> {
    pub fn new(params: &'a Params) -> Self {
        Input {
            params,
            violations: Violations::new(),
            unreadable: None,
        }
    }

    /// `Ok(())` when every member read so far was valid, else one `ValidationError`.
    pub fn finish(self) -> Result<(), AwsError> {
        if let Some(err) = self.unreadable {
            return Err(err);
        }
        self.violations.into_result()
    }

    /// Records that a required member is absent (for members read some other way).
    pub fn missing(&mut self, member: &str) {
        self.violations.null(&self.params.root().error_path(member));
    }

    /// A required string member; `""` stands in when absent (its violation is recorded).
    fn required(&mut self, member: &str) -> &'a str {
        match self.params.optional_str(member) {
            Some(value) => value,
            None => {
                self.violations.null(&self.params.root().error_path(member));
                ""
            }
        }
    }

    pub fn name(&mut self, member: &str, shape: Name) -> &'a str {
        let value = self.required(member);
        self.check_name(member, value, shape);
        value
    }

    pub fn optional_name(&mut self, member: &str, shape: Name) -> Option<&'a str> {
        let value = self.params.optional_str(member)?;
        self.check_name(member, value, shape);
        Some(value)
    }

    fn check_name(&mut self, member: &str, value: &str, shape: Name) {
        if self.params.optional_str(member).is_none() {
            return;
        }
        let path = self.params.root().error_path(member);
        self.length(&path, value, 1, shape.max);
        self.pattern(&path, value, NAME_PATTERN, all(value, is_name_char));
    }

    /// `pathType` (`/` or `/a/b/`), `/` when absent.
    pub fn path(&mut self, member: &str) -> &'a str {
        let Some(value) = self.params.optional_str(member) else {
            return "/";
        };
        let path = self.params.root().error_path(member);
        self.length_unshown(&path, value, 1, 512);
        let valid = value == "/"
            || (value.len() >= 3
                && value.starts_with('/')
                && value.ends_with('/')
                && all(value, |c| ('\u{21}'..='\u{7e}').contains(&c)));
        self.pattern_unshown(&path, PATH_PATTERN, valid);
        value
    }

    /// `pathType` when present (UpdateUser's `NewPath`).
    pub fn optional_path(&mut self, member: &str) -> Option<&'a str> {
        self.params.optional_str(member)?;
        Some(self.path(member))
    }

    /// `accountAliasType`: 3–63 lower-case letters, digits and single hyphens, a letter or
    /// digit at either end.
    pub fn account_alias(&mut self, member: &str) -> &'a str {
        let value = self.required(member);
        if self.params.optional_str(member).is_some() {
            let path = self.params.root().error_path(member);
            self.length(&path, value, 3, 63);
            self.pattern(&path, value, ACCOUNT_ALIAS_PATTERN, is_account_alias(value));
        }
        value
    }

    /// `pathPrefixType` (ListRoles, ListUsers, ListInstanceProfiles), `/` when absent.
    pub fn path_prefix(&mut self, member: &str) -> &'a str {
        let Some(value) = self.params.optional_str(member) else {
            return "/";
        };
        let path = self.params.root().error_path(member);
        self.length_unshown(&path, value, 1, 512);
        let valid = value.starts_with('/') && all(value, |c| ('\u{21}'..='\u{7f}').contains(&c));
        self.pattern_unshown(&path, PATH_PREFIX_PATTERN, valid);
        value
    }

    /// `policyPathType` (CreatePolicy's Path, the policy lists' PathPrefix), `/` when absent.
    pub fn policy_path(&mut self, member: &str) -> &'a str {
        let Some(value) = self.params.optional_str(member) else {
            return "/";
        };
        let path = self.params.root().error_path(member);
        self.length_unshown(&path, value, 1, 512);
        let valid = value.ends_with('/')
            && value[..value.len() - 1].split('/').skip(1).all(|segment| {
                !segment.is_empty()
                    && all(segment, |c| {
                        c.is_ascii_alphanumeric() || ".,+@=_-".contains(c)
                    })
            })
            && value.starts_with('/');
        self.pattern_unshown(&path, POLICY_PATH_PATTERN, valid);
        value
    }

    /// `policyDocumentType`: 1–131,072 characters of TAB, LF, CR and U+0020–U+00FF.
    pub fn document(&mut self, member: &str) -> &'a str {
        let value = self.required(member);
        if self.params.optional_str(member).is_some() {
            let path = self.params.root().error_path(member);
            self.length(&path, value, 1, MAX_DOCUMENT_CHARS);
            let valid = all(value, |c| {
                matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}')
            });
            self.pattern(&path, value, DOCUMENT_PATTERN, valid);
        }
        value
    }

    /// `roleDescriptionType`: up to 1,000 characters, printable Latin-1.
    pub fn role_description(&mut self, member: &str) -> Option<&'a str> {
        let value = self.params.optional_str(member)?;
        let path = self.params.root().error_path(member);
        self.length(&path, value, 0, 1000);
        let valid = value
            .chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}'));
        self.pattern(&path, value, ROLE_DESCRIPTION_PATTERN, valid);
        Some(value)
    }

    /// `policyDescriptionType`: up to 1,000 characters.
    pub fn policy_description(&mut self, member: &str) -> Option<&'a str> {
        let value = self.params.optional_str(member)?;
        let path = self.params.root().error_path(member);
        self.length(&path, value, 0, 1000);
        Some(value)
    }

    /// `arnType`: 20–2,048 characters.
    pub fn arn(&mut self, member: &str) -> &'a str {
        let value = self.required(member);
        self.check_arn(member, value);
        value
    }

    pub fn optional_arn(&mut self, member: &str) -> Option<&'a str> {
        let value = self.params.optional_str(member)?;
        self.check_arn(member, value);
        Some(value)
    }

    fn check_arn(&mut self, member: &str, value: &str) {
        if self.params.optional_str(member).is_some() {
            let path = self.params.root().error_path(member);
            self.length(&path, value, 20, 2048);
        }
    }

    /// `policyVersionIdType`: `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`.
    pub fn version_id(&mut self, member: &str) -> &'a str {
        let value = self.required(member);
        if self.params.optional_str(member).is_some() {
            let path = self.params.root().error_path(member);
            let (number, suffix) = match value.split_once('.') {
                Some((n, s)) => (n, Some(s)),
                None => (value, None),
            };
            let valid = number.strip_prefix('v').is_some_and(|d| {
                !d.is_empty() && !d.starts_with('0') && all(d, |c| c.is_ascii_digit())
            }) && suffix
                .is_none_or(|s| all(s, |c| c.is_ascii_alphanumeric() || c == '-'));
            // Without the value, as IAM words it (recorded: err-set-default-invalid-version-format).
            if !valid {
                self.violations.unshown(
                    &path,
                    r"Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?",
                );
            }
        }
        value
    }

    /// `accessKeyIdType`: 16–128 word characters.
    pub fn access_key_id(&mut self, member: &str) -> &'a str {
        let value = self.required(member);
        if self.params.optional_str(member).is_some() {
            let path = self.params.root().error_path(member);
            self.length(&path, value, 16, 128);
            self.pattern(
                &path,
                value,
                ACCESS_KEY_ID_PATTERN,
                all(value, is_word_char),
            );
        }
        value
    }

    /// A required member limited to `allowed` values (`statusType`, …).
    pub fn enumeration(&mut self, member: &str, allowed: &[&str]) -> &'a str {
        let value = self.required(member);
        self.check_enum(member, value, allowed);
        value
    }

    pub fn optional_enumeration(&mut self, member: &str, allowed: &[&str]) -> Option<&'a str> {
        let value = self.params.optional_str(member)?;
        self.check_enum(member, value, allowed);
        Some(value)
    }

    fn check_enum(&mut self, member: &str, value: &str, allowed: &[&str]) {
        if self.params.optional_str(member).is_some() && !allowed.contains(&value) {
            let path = self.params.root().error_path(member);
            self.violations.value(
                &path,
                value,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// An optional integer member within `min..=max` (`roleMaxSessionDurationType`, …).
    pub fn integer(&mut self, member: &str, min: i64, max: i64) -> Option<i64> {
        let raw = self.params.optional_str(member)?;
        let Ok(n) = raw.parse::<i64>() else {
            let err = self.params.optional_i64(member, min..=max).err();
            if let Some(err) = err {
                self.unreadable.get_or_insert(err.into());
            }
            return None;
        };
        let path = self.params.root().error_path(member);
        if n < min {
            self.violations.value(
                &path,
                raw,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if n > max {
            self.violations.value(
                &path,
                raw,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
        Some(n)
    }

    /// An optional `true`/`false` member.
    pub fn boolean(&mut self, member: &str) -> Option<bool> {
        match self.params.optional_bool(member) {
            Ok(value) => value,
            Err(err) => {
                self.unreadable.get_or_insert(err.into());
                None
            }
        }
    }

    /// IAM's pagination input (`Marker`, `MaxItems` 1–1000, default 100) under `path_prefix`.
    pub fn list_query(&mut self, path_prefix: &str) -> ListQuery {
        let marker = self.marker().map(str::to_owned);
        let max_items = self
            .integer("MaxItems", 1, 1000)
            .unwrap_or(100)
            .clamp(1, 1000);
        ListQuery {
            path_prefix: path_prefix.to_owned(),
            marker,
            max_items: max_items as u32,
        }
    }

    /// `markerType`: 1–320 characters of U+0020–U+00FF.
    pub fn marker(&mut self) -> Option<&'a str> {
        let value = self.params.optional_str("Marker")?;
        let path = self.params.root().error_path("Marker");
        self.length(&path, value, 1, 320);
        let valid = all(value, |c| ('\u{20}'..='\u{ff}').contains(&c));
        self.pattern(&path, value, MARKER_PATTERN, valid);
        Some(value)
    }

    /// `tagListType`: at most 50 `Tag`s, each with a `tagKeyType` key and `tagValueType` value.
    /// Returns the tags and whether the list was present at all.
    pub fn tags(&mut self, member: &str, required: bool) -> Vec<Tag> {
        let root = self.params.root();
        let read = root.optional_list(member, Ok);
        let scopes: Vec<Scope<'a>> = match read {
            Ok(Some(scopes)) => scopes,
            Ok(None) => {
                if required {
                    self.violations.null(&root.error_path(member));
                }
                return Vec::new();
            }
            Err(e) => {
                self.unreadable.get_or_insert(e.into());
                return Vec::new();
            }
        };
        if scopes.len() > MAX_TAGS {
            self.violations.unshown(
                &root.error_path(member),
                &format!("Member must have length less than or equal to {MAX_TAGS}"),
            );
        }
        let mut tags = Vec::with_capacity(scopes.len());
        for tag in scopes {
            let key = tag.optional_str("Key");
            let value = tag.optional_str("Value");
            match key {
                None => self.violations.null(&tag.error_path("Key")),
                Some(key) => {
                    let path = tag.error_path("Key");
                    self.broken_unshown(&path, tag_rules::key_violations(key));
                }
            }
            match value {
                None => self.violations.null(&tag.error_path("Value")),
                Some(value) => {
                    let path = tag.error_path("Value");
                    self.broken_unshown(&path, tag_rules::value_violations(value));
                }
            }
            if let (Some(key), Some(value)) = (key, value) {
                tags.push(Tag::new(key, value));
            }
        }
        tags
    }

    /// A list of strings whose members are `min..=max` characters long; `None` when absent.
    /// A broken member is reported once for the list, naming every constraint of the member
    /// shape, as IAM words list members (recorded AWS answers: LocalStack's test_iam_oidc.py,
    /// `Member must satisfy constraint: [Member must have length less than or equal to 40,
    /// Member must have length greater than or equal to 40]`).
    pub fn string_list(&mut self, member: &str, min: usize, max: usize) -> Option<Vec<&'a str>> {
        let root = self.params.root();
        let scopes = match root.optional_list(member, Ok) {
            Ok(scopes) => scopes?,
            Err(e) => {
                self.unreadable.get_or_insert(e.into());
                return None;
            }
        };
        let items: Vec<&'a str> = scopes.iter().map(|s| s.value().unwrap_or("")).collect();
        if items
            .iter()
            .any(|item| !(min..=max).contains(&item.chars().count()))
        {
            self.violations.unshown(
                &root.error_path(member),
                &format!(
                    "Member must satisfy constraint: [Member must have length less than or \
                     equal to {max}, Member must have length greater than or equal to {min}]"
                ),
            );
        }
        Some(items)
    }

    /// A required string member of `min..=max` characters whose value AWS does not echo.
    pub fn unshown_text(&mut self, member: &str, min: usize, max: usize) -> &'a str {
        let value = self.required(member);
        if self.params.optional_str(member).is_some() {
            let path = self.params.root().error_path(member);
            let len = value.chars().count();
            if len < min {
                self.violations.unshown(
                    &path,
                    &format!("Member must have length greater than or equal to {min}"),
                );
            }
            if len > max {
                self.violations.unshown(
                    &path,
                    &format!("Member must have length less than or equal to {max}"),
                );
            }
        }
        value
    }

    /// `tagKeyListType`: at most 50 `tagKeyType` keys; required.
    pub fn tag_keys(&mut self, member: &str) -> Vec<String> {
        let root = self.params.root();
        let scopes: Vec<Scope<'a>> = match root.optional_list(member, Ok) {
            Ok(Some(scopes)) => scopes,
            Ok(None) => {
                self.violations.null(&root.error_path(member));
                return Vec::new();
            }
            Err(e) => {
                self.unreadable.get_or_insert(e.into());
                return Vec::new();
            }
        };
        if scopes.len() > MAX_TAGS {
            self.violations.unshown(
                &root.error_path(member),
                &format!("Member must have length less than or equal to {MAX_TAGS}"),
            );
        }
        let mut keys = Vec::with_capacity(scopes.len());
        let mut broken = false;
        for item in scopes {
            let Some(key) = item.value() else {
                broken = true;
                continue;
            };
            broken |= !tag_rules::key_violations(key).is_empty();
            keys.push(key.to_owned());
        }
        // IAM words any broken key as the list's member constraint, once, without the key
        // (recorded AWS answers: LocalStack's test_iam_policies.py, err-untag-invalid-character).
        if broken {
            self.violations.unshown(
                &root.error_path(member),
                &format!(
                    "Member must satisfy constraint: [Member must have length less than or equal \
                     to {}, Member must have length greater than or equal to 1, Member must \
                     satisfy regular expression pattern: {}, Member must not be null]",
                    tag_rules::MAX_KEY_CHARS,
                    tag_rules::KEY_PATTERN
                ),
            );
        }
        keys
    }

    /// Records each constraint a tag key or value breaks, without its text: IAM leaves tags out
    /// of its messages (recorded AWS answers: `Value at 'tags.1.member.key' failed to …`).
    fn broken_unshown(&mut self, path: &str, constraints: Vec<String>) {
        for constraint in constraints {
            self.violations.unshown(path, &constraint);
        }
    }

    fn length(&mut self, path: &str, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min {
            self.violations.value(
                path,
                value,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.violations.value(
                path,
                value,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Paths are left out of IAM's messages (recorded AWS answer: `Value at 'path' failed to
    /// satisfy constraint: Member must have length less than or equal to 512`).
    fn length_unshown(&mut self, path: &str, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min {
            self.violations.unshown(
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.violations.unshown(
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    fn pattern_unshown(&mut self, path: &str, pattern: &str, valid: bool) {
        if !valid {
            self.violations.unshown(
                path,
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    fn pattern(&mut self, path: &str, value: &str, pattern: &str, valid: bool) {
        // An empty value already failed its length check; Coral reports the pattern too.
        if !valid {
            self.violations.value(
                path,
                value,
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
    }
}

/// `^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$` without a regex engine.
fn is_account_alias(value: &str) -> bool {
    let bytes = value.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && !value.contains("--")
}

// UNCONFIRMED wording for IAM: EC2's confirmed text for the same rule (`InvalidParameterValue`
// there; IAM reports its input rules as `InvalidInput`).
const RESERVED_KEY_MESSAGE: &str = "Tag keys starting with 'aws:' are reserved for internal use";

/// The rules on a request's tag keys beyond their characters, all `InvalidInput` (400): no key
/// under the reserved `aws:` prefix (any case), and no key twice (`Duplicate tag keys found.
/// Please note that Tag keys are case insensitive.`). Checked before anything is written.
pub fn reject_reserved_or_duplicate_keys(tags: &[Tag], case: KeyCase) -> Result<(), AwsError> {
    if tags.iter().any(|tag| tag_rules::is_reserved_key(&tag.key)) {
        return Err(AwsError::sender("InvalidInput", 400, RESERVED_KEY_MESSAGE));
    }
    for (i, tag) in tags.iter().enumerate() {
        if tags[..i].iter().any(|t| case.same(&t.key, &tag.key)) {
            return Err(AwsError::sender(
                "InvalidInput",
                400,
                case.duplicate_message(),
            ));
        }
    }
    Ok(())
}

/// Whether an entity's tag keys differ by case alone: roles', users' and instance profiles' do
/// not; managed policies' do (recorded AWS answers: LocalStack's test_iam_policies.py tags `a`
/// and `A` on one policy, and words the duplicate error without the case note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCase {
    Insensitive,
    Sensitive,
}

impl KeyCase {
    pub fn same(self, a: &str, b: &str) -> bool {
        match self {
            KeyCase::Insensitive => a.to_lowercase() == b.to_lowercase(),
            KeyCase::Sensitive => a == b,
        }
    }

    fn duplicate_message(self) -> &'static str {
        match self {
            KeyCase::Insensitive => {
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            }
            KeyCase::Sensitive => "Duplicate tag keys found.",
        }
    }
}

/// Whether every character satisfies `ok`; the empty string does not match a `+` pattern.
fn all(value: &str, ok: impl Fn(char) -> bool) -> bool {
    !value.is_empty() && value.chars().all(ok)
}

/// Java's `\w` (IAM's patterns are Java regular expressions): ASCII letters, digits, `_`.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_name_char(c: char) -> bool {
    is_word_char(c) || "+=,.@-".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Protocol;

    fn params(body: &str) -> Params {
        Params::decode(Protocol::AwsQuery, body.as_bytes(), 1 << 20).expect("decodes")
    }

    fn message(result: Result<(), AwsError>) -> String {
        result.expect_err("a violation").message
    }

    #[test]
    fn account_aliases_follow_the_model() {
        let cases: &[(&str, bool)] = &[
            ("abc", true),
            ("my-company-prod", true),
            ("0a1", true),
            (&"a".repeat(63), true),
            ("ab", false),
            (&"a".repeat(64), false),
            ("-abc", false),
            ("abc-", false),
            ("a--b", false),
            ("Abc", false),
            ("a_b", false),
            ("a.b", false),
            ("", false),
        ];
        for (alias, valid) in cases {
            assert_eq!(is_account_alias(alias), *valid, "{alias:?}");
        }
        let p = params("Action=A&AccountAlias=My_Alias");
        let mut input = Input::new(&p);
        input.account_alias("AccountAlias");
        assert_eq!(
            message(input.finish()),
            "1 validation error detected: Value 'My_Alias' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"
        );
        let p = params("Action=A&AccountAlias=ab");
        let mut input = Input::new(&p);
        input.account_alias("AccountAlias");
        assert!(message(input.finish()).starts_with("2 validation errors detected: "));
        let p = params("Action=A");
        let mut input = Input::new(&p);
        input.account_alias("AccountAlias");
        assert!(
            message(input.finish())
                .contains("'accountAlias' failed to satisfy constraint: Member must not be null")
        );
    }

    #[test]
    fn new_paths_are_paths_when_given() {
        let p = params("Action=A&NewPath=%2Fteam%2F");
        let mut input = Input::new(&p);
        assert_eq!(input.optional_path("NewPath"), Some("/team/"));
        assert_eq!(input.optional_path("Other"), None);
        assert!(input.finish().is_ok());
        let p = params("Action=A&NewPath=team");
        let mut input = Input::new(&p);
        input.optional_path("NewPath");
        assert!(message(input.finish()).contains("at 'newPath' failed to satisfy constraint"));
    }

    #[test]
    fn names_follow_the_model() {
        let p = params("Action=A&RoleName=ok-name_1%2B%3D%2C.%40");
        let mut input = Input::new(&p);
        assert_eq!(input.name("RoleName", SHORT_NAME), "ok-name_1+=,.@");
        assert!(input.finish().is_ok());

        let p = params("Action=A&RoleName=bad%20name");
        let mut input = Input::new(&p);
        input.name("RoleName", SHORT_NAME);
        assert_eq!(
            message(input.finish()),
            r"1 validation error detected: Value 'bad name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"
        );

        let p = params(&format!("Action=A&RoleName={}", "a".repeat(65)));
        let mut input = Input::new(&p);
        input.name("RoleName", SHORT_NAME);
        assert!(
            message(input.finish()).ends_with("Member must have length less than or equal to 64")
        );
    }

    #[test]
    fn all_violations_are_reported_together() {
        let p = params("Action=A&RoleName=&Path=nope&MaxSessionDuration=1");
        let mut input = Input::new(&p);
        input.name("RoleName", SHORT_NAME);
        input.path("Path");
        input.document("AssumeRolePolicyDocument");
        let text = message(input.finish());
        assert!(text.starts_with("4 validation errors detected: "), "{text}");
        assert!(text.contains("Value '' at 'roleName' failed to satisfy constraint: Member must have length greater than or equal to 1"), "{text}");
        assert!(text.contains(r"Value at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)"), "{text}");
        assert!(text.contains("Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null"), "{text}");
    }

    #[test]
    fn paths() {
        for (path, ok) in [
            ("/", true),
            ("/a/", true),
            ("/a/b/", true),
            ("//", false),
            ("/a", false),
            ("a/", false),
            ("/a b/", false),
        ] {
            let p = params(&format!("Action=A&Path={}", path.replace(' ', "%20")));
            let mut input = Input::new(&p);
            input.path("Path");
            assert_eq!(input.finish().is_ok(), ok, "{path}");
        }
        for (path, ok) in [
            ("/", true),
            ("/a/", true),
            ("/a/b/", true),
            ("//", false),
            ("/a", false),
            ("/a*/", false),
        ] {
            let p = params(&format!("Action=A&Path={path}"));
            let mut input = Input::new(&p);
            input.policy_path("Path");
            assert_eq!(input.finish().is_ok(), ok, "{path}");
        }
    }

    #[test]
    fn documents_allow_only_latin1_and_whitespace() {
        let p = params("Action=A&D=%7B%7D%09%0A");
        let mut input = Input::new(&p);
        input.document("D");
        assert!(input.finish().is_ok());
        let p = params("Action=A&D=%E2%9C%93");
        let mut input = Input::new(&p);
        input.document("D");
        assert!(message(input.finish()).contains("regular expression pattern"));
    }

    #[test]
    fn tags_and_their_limits() {
        let p = params(
            "Action=A&Tags.member.1.Key=Team&Tags.member.1.Value=a%20b&Tags.member.2.Key=k%C3%A9y&Tags.member.2.Value=",
        );
        let mut input = Input::new(&p);
        let tags = input.tags("Tags", false);
        assert!(input.finish().is_ok());
        assert_eq!(tags, vec![Tag::new("Team", "a b"), Tag::new("kéy", "")]);

        let many: String = (1..=51)
            .map(|i| format!("&Tags.member.{i}.Key=k{i}&Tags.member.{i}.Value=v"))
            .collect();
        let p = params(&format!("Action=A{many}"));
        let mut input = Input::new(&p);
        input.tags("Tags", false);
        assert_eq!(
            message(input.finish()),
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
        );

        let p = params("Action=A&Tags.member.1.Key=a%2Ab&Tags.member.1.Value=v");
        let mut input = Input::new(&p);
        input.tags("Tags", false);
        // IAM leaves the tag's text out (recorded AWS answers).
        assert_eq!(
            message(input.finish()),
            "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"
        );

        let p = params("Action=A&TagKeys.member.1=ok&TagKeys.member.2=NOWAY%21");
        let mut input = Input::new(&p);
        input.tag_keys("TagKeys");
        assert_eq!(
            message(input.finish()),
            "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+, Member must not be null]"
        );

        let dup = [Tag::new("Env", "a"), Tag::new("env", "b")];
        assert_eq!(
            reject_reserved_or_duplicate_keys(&dup, KeyCase::Insensitive)
                .expect_err("duplicate")
                .message,
            "Duplicate tag keys found. Please note that Tag keys are case insensitive."
        );
        // Managed policies: `Env` and `env` are two keys; the same key twice is refused.
        assert!(reject_reserved_or_duplicate_keys(&dup, KeyCase::Sensitive).is_ok());
        let same = [Tag::new("0", ""), Tag::new("0", "")];
        assert_eq!(
            reject_reserved_or_duplicate_keys(&same, KeyCase::Sensitive)
                .expect_err("duplicate")
                .message,
            "Duplicate tag keys found."
        );
    }

    #[test]
    fn version_ids_and_enums() {
        for (id, ok) in [
            ("v1", true),
            ("v12", true),
            ("v0", false),
            ("1", false),
            ("v1.a-b", true),
            ("v", false),
        ] {
            let p = params(&format!("Action=A&VersionId={id}"));
            let mut input = Input::new(&p);
            input.version_id("VersionId");
            assert_eq!(input.finish().is_ok(), ok, "{id}");
        }
        let p = params("Action=A&Status=Gone");
        let mut input = Input::new(&p);
        input.enumeration("Status", &["Active", "Inactive", "Expired"]);
        assert_eq!(
            message(input.finish()),
            "1 validation error detected: Value 'Gone' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]"
        );
    }
}
