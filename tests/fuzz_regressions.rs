//! The fuzz harnesses (tests/fuzz, `make fuzz-smoke`) run under plain
//! `cargo test`: every seed in tests/fuzz/corpus/<target>/ and every input
//! that once crashed a target (tests/fuzz/regressions/<target>/, named by
//! what it found) goes through the same harness the fuzzer uses; the named
//! tests below rebuild each crash from readable parts and check the fix.

#[allow(dead_code)]
#[path = "fuzz/src/lib.rs"]
mod harness;
#[allow(dead_code)]
#[path = "fuzz/src/seeds.rs"]
mod seeds;

use std::path::Path;

type Harness = fn(&[u8]);

const TARGETS: [(&str, Harness); 7] = [
    ("engine", harness::engine::run),
    ("vrrp", harness::vrrp::run),
    ("sync", harness::sync::run),
    ("bfd", harness::bfd::run),
    ("config", harness::config::run),
    ("control", harness::control::run),
    ("netlink", harness::netlink::run),
];

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn replay(kind: &str) -> usize {
    let mut n = 0;
    for (target, run) in TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz")
            .join(kind)
            .join(target);
        for f in files(&dir) {
            let data = std::fs::read(&f).unwrap();
            eprintln!("{}", f.display());
            run(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn seed_corpus_runs_clean() {
    assert!(replay("corpus") >= 30, "the seed corpus is missing");
}

#[test]
fn every_crash_found_stays_fixed() {
    replay("regressions");
}

/// The committed seeds are what the generator writes (so a change to the
/// harness format shows here), and each seed reaches what it was built
/// for.
#[test]
fn seeds_are_current() {
    if cfg!(target_endian = "big") {
        // NAT ports come from a hash whose bytes may differ by endianness;
        // the seeds are written (and compared) on the little-endian host.
        eprintln!("skipped: seeds are compared on little-endian hosts");
        return;
    }
    for (target, seeds) in seeds::all() {
        for (name, data) in seeds {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fuzz/corpus")
                .join(target)
                .join(&name);
            let have = std::fs::read(&path).unwrap_or_default();
            assert!(
                have == data,
                "{} is stale: run the write_seeds test (see tests/fuzz/src/seeds.rs)",
                path.display()
            );
        }
    }
}

/// `HAGW_FUZZ_WRITE_SEEDS=1 cargo test --test fuzz_regressions write_seeds -- --ignored`
#[test]
#[ignore]
fn write_seeds() {
    if std::env::var_os("HAGW_FUZZ_WRITE_SEEDS").is_none() {
        return;
    }
    for (target, seeds) in seeds::all() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz/corpus")
            .join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, data) in seeds {
            std::fs::write(dir.join(name), data).unwrap();
        }
    }
}
