//! cross/test-runner.sh, the runner every test binary of the qemu-user CI
//! run (cross/test.sh, `make test-cross-mips`) goes through: a hang fails
//! fast with a clear message instead of eating the CI budget. Runs the
//! script natively (HAGW_TEST_QEMU empty) on stand-in "test binaries".

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn runner(limit_secs: &str, args: &[&str]) -> (Output, Duration) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cross/test-runner.sh");
    let t0 = Instant::now();
    let out = Command::new("bash")
        .arg(script)
        .args(args)
        .env("HAGW_TEST_QEMU", "")
        .env("HAGW_TEST_TIMEOUT", limit_secs)
        .output()
        .expect("bash");
    (out, t0.elapsed())
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn exit_status_passes_through() {
    let (out, _) = runner("20", &["sh", "-c", "echo ran; exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("TIMEOUT"));
    let (out, _) = runner("20", &["true"]);
    assert_eq!(out.status.code(), Some(0));
}

/// A hung "test binary" is killed at the limit with a message naming it,
/// and so is what it started (a daemon left behind would hold CI open).
#[test]
fn hang_fails_fast_with_a_message_and_takes_its_children() {
    let dir = std::env::temp_dir().join(format!("hagw-runner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("child.pid");
    let script = format!("sleep 300 & echo $! > {}; sleep 300", pidfile.display());
    let (out, took) = runner("1", &["sh", "-c", &script]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(124), "{err}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(
        err.contains("cross-test: TIMEOUT: sh ran longer than 1 s and was killed (hung?)"),
        "{err}"
    );
    let child: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let gone = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        !alive(child)
    });
    if !gone {
        // SAFETY: kill(2) on the sleep this test started.
        unsafe { libc::kill(child, libc::SIGKILL) };
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        gone,
        "the hung binary's child {child} survived the time limit"
    );
}
