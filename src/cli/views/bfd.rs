//! `hagw show bfd` (text and `--json`) and the BFD metric families: the
//! session to the peer on the sync link (state, discriminators, negotiated
//! intervals, last change, counters) and the fast-takeover counts.
//!
//! Owns: those layouts only.

use super::super::json::Json;
use super::super::show::{Family, format_duration};
use crate::engine::BfdStatus;
use crate::time::{Duration, Instant};
use core::fmt::Write;

/// Printed when BFD is not configured.
pub const NO_BFD: &str = "BFD is not configured (conntrack_sync option bfd).\n";

fn ms(d: Option<Duration>) -> String {
    d.map_or("-".to_string(), |d| format!("{} ms", d.as_millis() as u64))
}

fn ago(t: Option<Instant>, now: Instant) -> String {
    t.map_or("never".to_string(), |t| {
        format!("{} ago", format_duration(now.saturating_since(t)))
    })
}

pub fn text(b: &BfdStatus, now: Instant) -> String {
    let s = &b.session;
    let c = &s.counters;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "BFD session to the peer (sync link): {}, remote {}",
        s.state.as_str(),
        s.remote_state.as_str()
    );
    let _ = writeln!(
        o,
        "Discriminators: local {}, remote {}",
        s.local_discriminator, s.remote_discriminator
    );
    let _ = writeln!(
        o,
        "Diagnostic: local {}, remote {}",
        s.local_diag.as_str(),
        s.remote_diag.as_str()
    );
    let _ = writeln!(
        o,
        "Intervals: tx {}, rx {}, detect time {} (multiplier {}, peer {})",
        ms(s.tx_interval),
        ms(s.rx_interval),
        ms(s.detect_time),
        s.detect_mult,
        s.remote_detect_mult
    );
    let _ = writeln!(
        o,
        "Last state change: {}; last packet: {}",
        ago(s.last_state_change, now),
        ago(s.last_rx, now)
    );
    let _ = writeln!(
        o,
        "Packets: {} sent, {} received, {} dropped; went up {} times, down {} times",
        c.tx,
        c.rx,
        c.drops_total(),
        c.up,
        c.down
    );
    for (why, n) in c.drops_named().filter(|(_, n)| *n > 0) {
        let _ = writeln!(o, "  dropped {why}: {n}");
    }
    let t = &b.takeover;
    let _ = writeln!(
        o,
        "Fast takeover: {}; {} takeovers, {} were a sync-link failure (last: {})",
        if b.fast_takeover { "on" } else { "off" },
        t.fast_takeovers,
        t.sync_link_failures,
        ago(t.last, now)
    );
    o
}

fn ms_json(d: Option<Duration>) -> Json {
    d.map_or(Json::Null, |d| Json::UInt(crate::time::millis(d)))
}

pub fn json(b: &BfdStatus, now: Instant) -> Json {
    let s = &b.session;
    let c = &s.counters;
    let secs_ago = |t: Option<Instant>| {
        t.map_or(Json::Null, |t| {
            let d = now.saturating_since(t);
            Json::Dec(crate::time::millis(d), 3)
        })
    };
    let drops = c
        .drops_named()
        .fold(Json::object(), |o, (why, n)| o.field(why, n));
    Json::object()
        .field("state", s.state.as_str())
        .field("remote_state", s.remote_state.as_str())
        .field("local_discriminator", u64::from(s.local_discriminator))
        .field("remote_discriminator", u64::from(s.remote_discriminator))
        .field("local_diag", s.local_diag.as_str())
        .field("remote_diag", s.remote_diag.as_str())
        .field("tx_interval_ms", ms_json(s.tx_interval))
        .field("rx_interval_ms", ms_json(s.rx_interval))
        .field("detect_time_ms", ms_json(s.detect_time))
        .field("detect_mult", u64::from(s.detect_mult))
        .field("remote_detect_mult", u64::from(s.remote_detect_mult))
        .field(
            "last_state_change_seconds_ago",
            secs_ago(s.last_state_change),
        )
        .field("last_rx_seconds_ago", secs_ago(s.last_rx))
        .field("tx", c.tx)
        .field("rx", c.rx)
        .field("up_transitions", c.up)
        .field("down_transitions", c.down)
        .field("drops", drops)
        .field("fast_takeover", b.fast_takeover)
        .field("fast_takeovers", b.takeover.fast_takeovers)
        .field("sync_link_failures", b.takeover.sync_link_failures)
}

pub fn families(
    b: &BfdStatus,
    fam: impl Fn(&'static str, &'static str, &'static str, u64) -> Family,
) -> Vec<Family> {
    let s = &b.session;
    vec![
        fam(
            "hagw_bfd_up",
            "gauge",
            "1 if the BFD session to the peer is Up.",
            u64::from(s.state == crate::bfd::State::Up),
        ),
        fam(
            "hagw_bfd_packets_sent_total",
            "counter",
            "BFD control packets sent.",
            s.counters.tx,
        ),
        fam(
            "hagw_bfd_packets_received_total",
            "counter",
            "BFD control packets received (accepted and dropped).",
            s.counters.rx,
        ),
        fam(
            "hagw_bfd_packets_dropped_total",
            "counter",
            "BFD control packets dropped.",
            s.counters.drops_total(),
        ),
        fam(
            "hagw_bfd_down_transitions_total",
            "counter",
            "Times the BFD session left Up.",
            s.counters.down,
        ),
        fam(
            "hagw_bfd_fast_takeovers_total",
            "counter",
            "Takeovers started by BFD (fast_takeover).",
            b.takeover.fast_takeovers,
        ),
        fam(
            "hagw_bfd_sync_link_failures_total",
            "counter",
            "Fast takeovers undone by the master's advert: the sync link failed alone.",
            b.takeover.sync_link_failures,
        ),
    ]
}
