//! Audit integrity under SIGKILL: while several clients stream signed calls, the server is
//! killed; after a restart, every call that got a response has its record in the trail.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use e2e::raw::signed_post;
use e2e::{ADMIN_KEY_ID, ADMIN_SECRET, Server};

const CLIENTS: usize = 8;

#[test]
fn sigkill_during_load_loses_no_record_of_an_acknowledged_call() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start_on(&data);
    let endpoint = server.endpoint.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let endpoint = endpoint.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    // Reads and writes alike: both leave a record.
                    let body = if n % 4 == 0 {
                        format!("Action=CreateUser&Version=2010-05-08&UserName=c{client}n{n}")
                    } else {
                        "Action=GetCallerIdentity&Version=2011-06-15".to_owned()
                    };
                    let service = if n % 4 == 0 { "iam" } else { "sts" };
                    // After the kill `raw::send` panics on the refused connection.
                    let sent = std::panic::catch_unwind(|| {
                        signed_post(
                            &endpoint,
                            service,
                            (ADMIN_KEY_ID, ADMIN_SECRET),
                            body.as_bytes(),
                        )
                    });
                    let Ok(response) = sent else { break };
                    if response.status == 0 {
                        break; // the server is gone
                    }
                    assert_eq!(response.status, 200, "{}", response.body);
                    let id = response
                        .body
                        .split("<RequestId>")
                        .nth(1)
                        .and_then(|rest| rest.split("</RequestId>").next())
                        .expect("a RequestId in the response")
                        .to_owned();
                    acknowledged.push(id);
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2500));
    server.kill();
    stop.store(true, Ordering::Relaxed);
    let acknowledged: Vec<String> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert!(
        acknowledged.len() > 50,
        "too little load: {}",
        acknowledged.len()
    );

    let server = Server::start_on(&data);
    let output = std::process::Command::new(e2e::binary())
        .args(["audit", "export", "--since", "0", "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .unwrap();
    assert!(output.status.success());
    let exported = String::from_utf8(output.stdout).unwrap();
    let recorded: HashSet<String> = exported
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            record["requestID"].as_str().unwrap().to_owned()
        })
        .collect();
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|id| !recorded.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged calls have no record, e.g. {:?}",
        missing.len(),
        acknowledged.len(),
        missing.first()
    );
}
