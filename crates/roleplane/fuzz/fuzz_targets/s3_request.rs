//! Any request through roleplane's S3, unsigned, against a bucket that exists:
//! `roleplane::fuzzing::S3Target`.

#![no_main]

use std::sync::OnceLock;

use roleplane::fuzzing::S3Target;

struct Fixture {
    target: S3Target,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        Fixture {
            target: S3Target::new(dir.path()),
            _dir: dir,
        }
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| fixture().target.request(data));
