//! Runs the JSON case corpus under `tests/cases/` (format in its README) and
//! reports every failing case by file and name.

use std::fs;
use std::path::{Path, PathBuf};

use policy::{Policy, PolicyKind, eval_input, evaluate};
use serde_json::Value;

fn case_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases")
        .join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn cases(file: &Path) -> Vec<Value> {
    let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    match serde_json::from_str(&text) {
        Ok(Value::Array(cases)) => cases,
        other => panic!(
            "{}: expected a JSON array of cases, got {other:?}",
            file.display()
        ),
    }
}

fn label(file: &Path, case: &Value) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{name}: {}", case["name"].as_str().unwrap_or("<unnamed>"))
}

fn run_eval(case: &Value) -> Result<(), String> {
    let (request, policies) = eval_input::parse(&case["input"].to_string())
        .map_err(|e| format!("input rejected: {e}"))?;
    let decision = evaluate(&request, &policies);
    let expected = case["expect"].as_str().ok_or("case has no \"expect\"")?;
    let mut got_sids: Vec<Option<String>> =
        decision.matched.iter().map(|m| m.sid.clone()).collect();
    got_sids.sort();
    if decision.outcome.as_str() != expected {
        return Err(format!(
            "expected {expected}, got {} (matched {got_sids:?})",
            decision.outcome.as_str()
        ));
    }
    if let Some(Value::Array(sids)) = case.get("expectSids") {
        let mut want: Vec<Option<String>> =
            sids.iter().map(|s| s.as_str().map(str::to_owned)).collect();
        want.sort();
        if want != got_sids {
            return Err(format!("expected sids {want:?}, got {got_sids:?}"));
        }
    }
    Ok(())
}

fn kind(name: &str) -> Option<PolicyKind> {
    Some(match name {
        "identity" => PolicyKind::Identity,
        "resource" => PolicyKind::Resource,
        "trust" => PolicyKind::Trust,
        "session" => PolicyKind::Session,
        "boundary" => PolicyKind::PermissionsBoundary,
        "scp" => PolicyKind::ServiceControl,
        _ => return None,
    })
}

fn run_validate(case: &Value) -> Result<(), String> {
    let kind = case["kind"]
        .as_str()
        .and_then(kind)
        .ok_or("unknown \"kind\"")?;
    let text = match (case.get("policyText"), case.get("policy")) {
        (Some(Value::String(text)), _) => text.clone(),
        (_, Some(policy)) => policy.to_string(),
        _ => return Err("case has neither \"policy\" nor \"policyText\"".into()),
    };
    let expected = case.get("expectError").and_then(Value::as_str);
    let got = Policy::parse(&text, kind).err().map(|e| e.message);
    if got.as_deref() != expected {
        return Err(format!("expected error {expected:?}, got {got:?}"));
    }
    Ok(())
}

/// Runs every case under `tests/cases/{dir}`; the corpus must not shrink below `minimum`
/// (the issue asks for at least 300 evaluation cases).
fn run_all(dir: &str, minimum: usize, run: fn(&Value) -> Result<(), String>) {
    let mut failures = Vec::new();
    let mut count = 0;
    for file in case_files(dir) {
        for case in cases(&file) {
            count += 1;
            if let Err(why) = run(&case) {
                failures.push(format!("{}: {why}", label(&file, &case)));
            }
        }
    }
    assert!(
        count >= minimum,
        "only {count} cases under tests/cases/{dir}, expected at least {minimum}"
    );
    println!("{count} {dir} cases passed");
    assert!(
        failures.is_empty(),
        "{} of {count} {dir} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn eval_cases() {
    run_all("eval", 300, run_eval);
}

#[test]
fn validate_cases() {
    run_all("validate", 60, run_validate);
}
