//! The daemon's logger: one line per record, `LEVEL [target] message`.
//!
//! Owns: where log lines go. Info, debug and trace go to stdout, warnings
//! and errors to stderr, so that under procd (which files a service's stdout
//! as daemon.info and its stderr as daemon.err) an ordinary state change is
//! not logged as an error. Replaces simple_logger (same line format, a few
//! kB less in the static binary).

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;

struct Logger;

static LOGGER: Logger = Logger;

impl Log for Logger {
    fn enabled(&self, m: &Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let target = if r.target().is_empty() {
            r.module_path().unwrap_or_default()
        } else {
            r.target()
        };
        let level = r.level();
        // A closed stdout/stderr must not kill the daemon: write errors are ignored.
        let _ = if level <= Level::Warn {
            writeln!(
                std::io::stderr().lock(),
                "{:<5} [{target}] {}",
                level.as_str(),
                r.args()
            )
        } else {
            writeln!(
                std::io::stdout().lock(),
                "{:<5} [{target}] {}",
                level.as_str(),
                r.args()
            )
        };
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
    }
}

/// Install the logger (once; later calls only change the level).
pub fn init(level: LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
