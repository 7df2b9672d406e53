//! The repository builds, tests and documents itself: no tracked file may refer to the
//! directory that sits beside the repository on developer machines and CI (`..` then `/` then
//! its name, or a path into one of its subdirectories), because a fresh clone does not have it.
//! Test data, benchmark helpers and the interface contract the project needs are kept in the
//! repository (`crates/protocol/tests/protocol-cases/`, `scripts/bench/anchors/`,
//! `docs/INTERFACE.md`).
//!
//! The patterns are assembled at run time so that this file does not contain them itself.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The name of the directory beside the repository.
const SIBLING: &str = "shared";
/// Its subdirectories and files a tracked file might point into.
const INSIDE: &[&str] = &[
    "protocol-tests",
    "reference",
    "DESIGN",
    "bench-anchors",
    "seeds",
    "tools",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The strings that refer to the sibling directory.
fn patterns() -> Vec<String> {
    let mut patterns = vec![format!("../{SIBLING}")];
    patterns.extend(INSIDE.iter().map(|name| format!("{SIBLING}/{name}")));
    patterns
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The patterns `line` contains as references: the sibling's name must not be the tail of a
/// longer name (`over` + name), and `../` + name must end there (`../` + name + `_cache` is
/// another directory). Other paths through a directory of that name, such as a role session
/// `assumed-role/shared/x1`, are not references to it.
fn references_in(line: &str, patterns: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for pattern in patterns {
        let whole_name = !pattern.contains('/') || pattern.starts_with("..");
        for (at, _) in line.match_indices(pattern.as_str()) {
            let name_start = if pattern.starts_with("../") {
                at + 3
            } else {
                at
            };
            let before = line[..name_start].chars().next_back();
            if before.is_some_and(is_name_char) {
                continue;
            }
            let after = line[at + pattern.len()..].chars().next();
            if whole_name && after.is_some_and(is_name_char) {
                continue;
            }
            found.push(pattern.clone());
            break;
        }
    }
    found
}

/// The tracked files, or `None` (with the reason printed) when this is not a git checkout or
/// git is not installed — a source tarball, say. Anything else going wrong is a failure.
fn tracked_files(root: &Path) -> Option<Vec<PathBuf>> {
    // A worktree's `.git` is a file, a clone's a directory.
    if !root.join(".git").exists() {
        eprintln!(
            "skipped: {} has no .git, so there are no tracked files to check",
            root.display()
        );
        return None;
    }
    let output = match Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z"])
        .output()
    {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: git is not installed, so the tracked files cannot be listed");
            return None;
        }
        Err(error) => panic!("running git ls-files: {error}"),
    };
    assert!(
        output.status.success(),
        "git ls-files failed in {}: {}",
        root.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let files: Vec<PathBuf> = output
        .stdout
        .split(|&b| b == 0)
        .filter(|name| !name.is_empty())
        .map(|name| root.join(String::from_utf8_lossy(name).as_ref()))
        .collect();
    assert!(!files.is_empty(), "git ls-files listed no files");
    Some(files)
}

#[test]
fn no_tracked_file_refers_to_the_directory_beside_the_repository() {
    let root = repo_root();
    let Some(files) = tracked_files(&root) else {
        return;
    };
    let patterns = patterns();
    let mut offences = Vec::new();
    let mut checked = 0;
    for path in &files {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            // Tracked but deleted in the working tree: nothing there to refer to anything.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => panic!("reading {}: {error}", path.display()),
        };
        // Binary files (a NUL byte, or not UTF-8) are not text a reader follows.
        if bytes.contains(&0) {
            continue;
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        checked += 1;
        for (number, line) in text.lines().enumerate() {
            for pattern in references_in(line, &patterns) {
                let shown = path.strip_prefix(&root).unwrap_or(path);
                offences.push(format!(
                    "{}:{}: `{pattern}` in {:?}",
                    shown.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(checked > 0, "no tracked text file was read");
    assert!(
        offences.is_empty(),
        "tracked files refer to the directory beside the repository, which a fresh clone does \
         not have; copy what is needed into the repository and point there instead:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_patterns_catch_references_and_spare_other_paths() {
    let patterns = patterns();
    let sibling = |rest: &str| format!("{SIBLING}{rest}");
    let refers = [
        format!("ANCHORS=$ROOT/../{}", sibling("/bench-anchors")),
        format!("see `../{}`", sibling("/DESIGN.md")),
        format!("join(\"../../../{}\")", sibling("/protocol-tests")),
        format!("texts come from `{}` §3", sibling("/reference/aws-apis.md")),
        format!("{}/README.md", sibling("/seeds")),
        format!("bash {}/localstack-iam/run.sh", sibling("/tools")),
        format!("beside it at ../{}", sibling("")),
        format!("(../{})", sibling("")),
    ];
    for line in &refers {
        assert!(
            !references_in(line, &patterns).is_empty(),
            "should be caught: {line}"
        );
    }
    let spared = [
        format!("arn:aws:sts::123456789012:assumed-role/{}/x1", sibling("")),
        format!("arn:aws:iam::123456789012:role/{}", sibling("/app")),
        format!("../{}_cache/file", sibling("")),
        format!("over{}", sibling("/tools")),
        "an Arc shared between threads".to_owned(),
        format!("this {} machine", sibling("")),
    ];
    for line in &spared {
        assert!(
            references_in(line, &patterns).is_empty(),
            "should not be caught: {line}"
        );
    }
}
