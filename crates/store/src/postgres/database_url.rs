//! A database URL that never shows its password: `Debug` and `Display` print it with the
//! password (in the user part or as a `password` parameter) replaced, so a URL can be logged,
//! put in an error or printed by a `--help` without leaking the secret.

use std::fmt;

/// What a redacted password reads as.
const REDACTED: &str = "redacted";

#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL as given, password included: for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this names a PostgreSQL database (`postgres://` or `postgresql://`).
    pub fn is_postgres(&self) -> bool {
        let scheme = self.0.split_once("://").map(|(scheme, _)| scheme);
        matches!(scheme, Some("postgres" | "postgresql"))
    }

    fn redacted(&self) -> String {
        let Ok(mut url) = url::Url::parse(&self.0) else {
            // Unparseable: nothing of it is safe to repeat.
            return "<unparseable database URL>".to_owned();
        };
        if url.password().is_some() {
            // Only fails for URLs that cannot have a password, which this one has.
            let _ = url.set_password(Some(REDACTED));
        }
        if url.query_pairs().any(|(key, _)| key == "password") {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(key, value)| {
                    let value = if key == "password" {
                        REDACTED.to_owned()
                    } else {
                        value.into_owned()
                    };
                    (key.into_owned(), value)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        url.to_string()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted())
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        let cases = [
            (
                "postgres://app:s3cr%2Ft@db.example:5432/roleplane?sslmode=verify-full",
                "postgres://app:redacted@db.example:5432/roleplane?sslmode=verify-full",
            ),
            (
                "postgresql://app@db/roleplane?password=s3cret&sslmode=require",
                "postgresql://app@db/roleplane?password=redacted&sslmode=require",
            ),
            ("postgres://app@db/roleplane", "postgres://app@db/roleplane"),
            ("postgres://:s3cret@db/x", "postgres://:redacted@db/x"),
            ("not a url s3cret", "<unparseable database URL>"),
        ];
        for (given, shown) in cases {
            let url = DatabaseUrl::new(given);
            assert_eq!(url.to_string(), shown);
            assert_eq!(format!("{url:?}"), format!("DatabaseUrl({shown:?})"));
            assert!(!format!("{url} {url:?}").contains("s3c"), "{given}");
            assert_eq!(url.expose(), given);
        }
        assert!(DatabaseUrl::new("postgresql://h/d").is_postgres());
        assert!(!DatabaseUrl::new("/var/lib/roleplane").is_postgres());
    }
}
