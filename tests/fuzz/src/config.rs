//! Target `config`: config file text. UCI text is parsed and validated; a
//! config that validates is compiled into an engine that runs a few
//! seconds of timers and answers `show`. The same text also goes through
//! the keepalived converter (`hagw convert-keepalived`), whose output is
//! parsed in turn.
//!
//! Input: the file's bytes (not UTF-8: the loader refuses it before
//! parsing, so nothing to fuzz).

use hagw::config::{Config, parse_str};
use hagw::engine::Engine;
use hagw::time::{Duration, Instant};

/// Most sessions an engine built here holds: the tables are allocated
/// (and filled with empty entries) by `Engine::new`, and at the default
/// 16,384 that was most of the cost of an input; a few seconds of timers
/// never fill more than a handful.
const MAX_SESSIONS: u32 = 64;

fn exercise(cfg: &Config) {
    let mut small = cfg.clone();
    let ct = &mut small.conntrack;
    ct.max_entries = ct.max_entries.min(MAX_SESSIONS);
    ct.external_max_entries = ct.external_max_entries.min(MAX_SESSIONS);
    let cfg = &small;
    let macs: Vec<[u8; 6]> = (0..cfg.interfaces.len())
        .map(|i| [2, 0, 0, 0, 9, i as u8])
        .collect();
    let mut now = Instant::from_secs(1);
    let Ok(mut e) = Engine::new(cfg, &macs, now) else {
        return;
    };
    super::gateway::with_tx(|tx| {
        super::gateway::advance(&mut e, tx, &mut now, Duration::from_secs(4));
    });
    let snap = e.snapshot_with(now, true);
    for q in [
        "vrrp detail --json",
        "interfaces",
        "conntrack",
        "firewall",
        "routes",
        "metrics",
    ] {
        let _ = hagw::cli::show::answer(q, &snap, now);
    }
}

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = parse_str("fuzz.uci", text) {
        exercise(&cfg);
    }
    #[cfg(feature = "convert-keepalived")]
    {
        let addr = |_: &str| Some("192.168.1.2/24".to_string());
        if let Ok(c) = hagw::cli::keepalived::convert("fuzz.conf", text, &addr)
            && let Ok(cfg) = parse_str("converted.uci", &c.config)
        {
            exercise(&cfg);
        }
    }
}
