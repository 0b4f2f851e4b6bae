//! Support code shared by the host tests (`mod common;` in a test file):
//! a self-removing temp directory, detection of optional external tools,
//! the pcap writer (`common::pcap`) and a tshark field runner. Test-only:
//! panics on I/O errors; never touches the network.

#![allow(dead_code)]

pub mod pcap;
pub mod scenario1;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A private temp directory `hagw-<prefix>-<pid>-<tag>-<n>`, removed on drop
/// (also when a test fails). `n` keeps parallel tests of one binary apart.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str, tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p =
            std::env::temp_dir().join(format!("hagw-{prefix}-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Network and init-script tests need root (they print "skipped: needs
/// root" without it).
pub fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// Run `args[0] args[1..]`; fails the test (showing stderr) unless it
/// exits with success.
pub fn run(args: &[&str]) {
    stdout_of(Command::new(args[0]).args(&args[1..]));
}

/// True when `program args…` can be started and exits with success (how the
/// tests decide whether an optional tool is installed).
pub fn tool_runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `hagw check-config -c PATH` with the binary under test: (exit code,
/// stdout, stderr).
pub fn check_config(path: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hagw"))
        .args(["check-config", "-c"])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run `cmd` to the end; its stdout as text. Fails the test (showing
/// stderr) when it exits with an error.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Run `tshark -n -r file args…`; its stdout as text.
pub fn tshark(file: &Path, args: &[&str]) -> String {
    stdout_of(
        Command::new("tshark")
            .arg("-n")
            .arg("-r")
            .arg(file)
            .args(args),
    )
}

/// One dissected frame: (field name, value) in the order asked for; a value
/// is "" when the field is absent, occurrences are joined with ",".
pub type Row = Vec<(String, String)>;

/// Dissect `file` with tshark, header checksums checked, each `prefs` entry
/// passed as `-o PREF`, and read `fields` of every frame.
pub fn tshark_fields(file: &Path, prefs: &[&str], fields: &[&str]) -> Vec<Row> {
    let mut args: Vec<&str> = vec!["-o", "ip.check_checksum:TRUE"];
    for p in prefs {
        args.extend_from_slice(&["-o", p]);
    }
    args.extend_from_slice(&[
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "aggregator=,",
        "-E",
        "occurrence=a",
    ]);
    for f in fields {
        args.extend_from_slice(&["-e", f]);
    }
    tshark(file, &args)
        .lines()
        .map(|l| {
            let vals: Vec<&str> = l.split('|').collect();
            assert_eq!(vals.len(), fields.len(), "bad row {l}");
            fields
                .iter()
                .zip(vals)
                .map(|(f, v)| (f.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The value of field `name` in `row`; panics when it was not asked for.
pub fn get<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    row.iter()
        .find(|(f, _)| f == name)
        .unwrap_or_else(|| panic!("field {name} not requested"))
        .1
        .as_str()
}
