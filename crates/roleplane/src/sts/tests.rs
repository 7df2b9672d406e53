//! In-process tests: STS operations against a real SQLite store, without HTTP.
