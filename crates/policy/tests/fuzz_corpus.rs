//! The fuzz target's inputs as plain tests: every file of `fuzz/corpus/parse/` and
//! `fuzz/regressions/parse/` goes through the function the target calls, and none may panic.

use std::path::Path;

#[test]
fn parse_corpus() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(kind).join("parse")) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            let data = std::fs::read(&path).expect("corpus file");
            let outcome = std::panic::catch_unwind(|| policy::fuzzing::parse(&data));
            assert!(outcome.is_ok(), "{} panics", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no corpus for parse");
}
