//! `show conntrack-sync status | statistics | internal-cache |
//! external-cache` in the layouts of SPEC §5 (the statistics and cache
//! blocks are conntrackd's; our extra counters follow the SPEC lines), as
//! text and JSON.
//!
//! Owns: those layouts. Never: reads anything but the snapshot.
//! "traffic processed" is the sync link's traffic both ways (hagw keeps no
//! per-flow accounting of ended sessions the way conntrackd does).

use super::super::json::Json;
use super::super::show::{format_duration, table};
use super::{endpoint_json, id_json, proto_name};
use crate::conntrack::Tuple;
use crate::engine::{DataplaneStatus, SyncStatus, synced_of};
use crate::sync::ResyncStatus;
use crate::time::Instant;
use core::fmt::Write;
use std::net::Ipv4Addr;

/// One session of either cache, as the cache views list it.
pub struct CacheEntry {
    pub id: u64,
    pub orig: Tuple,
    /// Where SNAT put the source / DNAT sent the destination.
    pub snat: Option<(Ipv4Addr, u16)>,
    pub dnat: Option<(Ipv4Addr, u16)>,
    pub state: &'static str,
    pub timeout_secs: u64,
}

/// The internal cache: the live sessions already exported to the peer
/// (empty when the snapshot carries no sessions).
pub fn internal_entries(dp: Option<&DataplaneStatus>) -> Vec<CacheEntry> {
    dp.map_or(&[][..], |d| &d.sessions[..])
        .iter()
        .filter(|s| s.reported)
        .map(|s| CacheEntry {
            id: s.id,
            orig: s.orig,
            snat: s.snat.then_some((s.reply.dst, s.reply.dport)),
            dnat: s.dnat.then_some((s.reply.src, s.reply.sport)),
            state: s.state,
            timeout_secs: s.remaining.as_secs(),
        })
        .collect()
}

/// The external cache: the peer's sessions, not yet used for forwarding.
pub fn external_entries(s: &SyncStatus) -> Vec<CacheEntry> {
    s.external_sessions
        .iter()
        .map(|r| {
            let state = match synced_of(r) {
                Some(x) => match x.tcp_state {
                    Some(t) => t.name(),
                    None if x.assured => "ASSURED",
                    None if x.seen_reply => "REPLIED",
                    None => "UNREPLIED",
                },
                None => "UNKNOWN",
            };
            CacheEntry {
                id: r.id,
                orig: r.orig,
                snat: r.nat.snat().map(|e| (e.addr, e.port)),
                dnat: r.nat.dnat().map(|e| (e.addr, e.port)),
                state,
                timeout_secs: u64::from(r.timeout_secs),
            }
        })
        .collect()
}

/// `s` padded with spaces to `width`, or followed by `gap` spaces when
/// longer.
fn pad(s: &str, width: usize, gap: usize) -> String {
    let w = width.max(s.len() + gap);
    format!("{s:<w$}")
}

/// `|10.0.0.1|:80` (no port for protocols without).
fn cache_endpoint(proto: u8, addr: Ipv4Addr, port: u16) -> String {
    if super::has_ports(proto) {
        format!("|{addr}|:{port}")
    } else {
        format!("|{addr}|")
    }
}

/// The SPEC §5 cache layout (the header's Destination column is one
/// character wider than the rows', as in the SPEC's example).
pub fn cache(list: &[CacheEntry]) -> String {
    if list.is_empty() {
        return "The cache is empty.\n".to_string();
    }
    let mut out = format!(
        "{}{}Protocol\n",
        pad("Source", 37, 1),
        pad("Destination", 42, 1)
    );
    for e in list {
        let p = e.orig.proto;
        let _ = writeln!(
            out,
            "{}{}{} [{p}]",
            pad(&cache_endpoint(p, e.orig.src, e.orig.sport), 37, 1),
            pad(&cache_endpoint(p, e.orig.dst, e.orig.dport), 41, 1),
            proto_name(p)
        );
    }
    out
}

pub fn cache_json(list: &[CacheEntry]) -> Json {
    let items: Vec<Json> = list
        .iter()
        .map(|e| {
            let p = e.orig.proto;
            Json::object()
                .field("id", id_json(e.id))
                .field("protocol", proto_name(p))
                .field("protocol_number", p)
                .field("source", endpoint_json(p, e.orig.src, e.orig.sport))
                .field("destination", endpoint_json(p, e.orig.dst, e.orig.dport))
                .field("snat", e.snat.map(|(a, port)| endpoint_json(p, a, port)))
                .field("dnat", e.dnat.map(|(a, port)| endpoint_json(p, a, port)))
                .field("state", e.state)
                .field("timeout_seconds", e.timeout_secs)
                .inline()
        })
        .collect();
    Json::object().field("sessions", items)
}

/// conntrackd's cache line: the label, the number ending at column 36.
fn cache_line(out: &mut String, label: &str, n: u64, failed: Option<u64>) {
    let digits = n.to_string();
    let w = 36usize.saturating_sub(label.len()).max(digits.len() + 1);
    let _ = write!(out, "{label}{digits:>w$}");
    if let Some(f) = failed {
        let _ = write!(out, "    failed:{f:>6}");
    }
    out.push('\n');
}

fn cache_block(out: &mut String, name: &str, current: u64, rows: [(u64, u64); 3]) {
    let _ = writeln!(out, "cache {name}:");
    cache_line(out, "current active connections:", current, None);
    for (label, (n, f)) in ["created", "updated", "destroyed"].iter().zip(rows) {
        cache_line(out, &format!("connections {label}:"), n, Some(f));
    }
}

/// The internal cache's rows: (count, failed) for created, updated,
/// destroyed; destroys the session table could not queue are failed.
fn internal_rows(s: &SyncStatus, dp: Option<&DataplaneStatus>) -> [(u64, u64); 3] {
    let lost = dp.map_or(0, |d| d.conntrack.stats.changes_lost);
    [
        (s.exported.created, 0),
        (s.exported.updated, 0),
        (s.exported.destroyed, lost),
    ]
}

fn external_rows(s: &SyncStatus) -> [(u64, u64); 3] {
    let st = &s.stats;
    [
        (st.ext_created, st.ext_create_failed),
        (st.ext_updated, st.ext_update_failed),
        (st.ext_destroyed, st.ext_destroy_failed),
    ]
}

fn transport(s: &SyncStatus) -> &'static str {
    if s.peer.is_some() {
        "unicast"
    } else {
        "multicast"
    }
}

/// Our counters beyond conntrackd's, by block, for the lines after the
/// SPEC layout and for JSON.
pub fn extra_counters(s: &SyncStatus) -> [(&'static str, Vec<(&'static str, u64)>); 4] {
    let st = &s.stats;
    [
        (
            "external cache",
            vec![
                ("expired", st.ext_expired),
                ("swept", st.ext_swept),
                ("replaced", st.ext_replaced),
                ("stale", st.ext_stale),
                ("pending export", s.pending as u64),
                ("send queue full", st.send_queue_full),
            ],
        ),
        (
            "frames refused",
            vec![
                ("bad version", st.bad_version),
                ("bad crc", st.bad_crc),
                ("auth failures", st.auth_failures),
                ("replays", st.replays),
                ("duplicates", st.duplicates),
            ],
        ),
        (
            "frames ignored",
            vec![
                ("looped", st.looped),
                ("unconfirmed", st.unconfirmed),
                ("unknown peer", st.unknown_peer),
                ("unknown msgs", st.unknown_msgs),
                ("unrecovered", st.unrecovered),
            ],
        ),
        (
            "recovery",
            vec![
                ("nack sent", st.nack_sent),
                ("nack recv", st.nack_recv),
                ("resent", st.resent),
                ("resync requests sent", st.resync_requests_sent),
                ("resync requests recv", st.resync_requests_recv),
            ],
        ),
    ]
}

pub fn statistics(s: &SyncStatus, dp: Option<&DataplaneStatus>) -> String {
    let st = &s.stats;
    let mut out = String::new();
    cache_block(
        &mut out,
        "internal",
        s.internal as u64,
        internal_rows(s, dp),
    );
    out.push('\n');
    cache_block(&mut out, "external", s.external as u64, external_rows(s));
    out.push('\n');
    let two = |out: &mut String, a: String, b: String, w: usize| {
        out.push_str(&pad(&a, w, 4));
        out.push_str(&b);
        out.push('\n');
    };
    out.push_str("traffic processed:\n");
    two(
        &mut out,
        format!("{} Bytes", st.bytes_sent.saturating_add(st.bytes_recv)),
        format!("{} Pckts", st.pkts_sent.saturating_add(st.pkts_recv)),
        17,
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "{} traffic (active device={}):",
        transport(s),
        s.device
    );
    two(
        &mut out,
        format!("{} Bytes sent", st.bytes_sent),
        format!("{} Bytes recv", st.bytes_recv),
        21,
    );
    two(
        &mut out,
        format!("{} Pckts sent", st.pkts_sent),
        format!("{} Pckts recv", st.pkts_recv),
        21,
    );
    two(
        &mut out,
        format!("{} Error send", st.send_errors),
        format!("{} Error recv", st.recv_errors),
        21,
    );
    out.push('\n');
    out.push_str("message tracking:\n");
    two(
        &mut out,
        format!("{} Malformed msgs", st.malformed),
        format!("{} Lost msgs", st.lost),
        21,
    );
    // Beyond conntrackd: what the rest of the protocol counted.
    out.push('\n');
    for (block, rows) in extra_counters(s) {
        let items: Vec<String> = rows.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let _ = writeln!(out, "{block}: {}", items.join(", "));
    }
    let _ = writeln!(
        out,
        "messages: {} sent, {} recv; bulk resyncs: {} sent ({} sessions), {} recv",
        st.msgs_sent, st.msgs_recv, st.bulk_sent, st.bulk_sessions_sent, st.bulk_recv
    );
    out
}

pub fn statistics_json(s: &SyncStatus, dp: Option<&DataplaneStatus>) -> Json {
    let st = &s.stats;
    let block = |current: u64, rows: [(u64, u64); 3]| {
        Json::object()
            .field("current", current)
            .field("created", rows[0].0)
            .field("created_failed", rows[0].1)
            .field("updated", rows[1].0)
            .field("updated_failed", rows[1].1)
            .field("destroyed", rows[2].0)
            .field("destroyed_failed", rows[2].1)
    };
    let mut extra = Json::object();
    for (_, rows) in extra_counters(s) {
        for (k, v) in rows {
            extra = extra.field(&k.replace(' ', "_"), v);
        }
    }
    extra = extra
        .field("msgs_sent", st.msgs_sent)
        .field("msgs_recv", st.msgs_recv)
        .field("bulk_sent", st.bulk_sent)
        .field("bulk_recv", st.bulk_recv)
        .field("bulk_sessions_sent", st.bulk_sessions_sent);
    Json::object()
        .field(
            "cache_internal",
            block(s.internal as u64, internal_rows(s, dp)),
        )
        .field("cache_external", block(s.external as u64, external_rows(s)))
        .field(
            "traffic",
            Json::object()
                .field("transport", transport(s))
                .field("device", s.device.as_str())
                .field("bytes_sent", st.bytes_sent)
                .field("bytes_recv", st.bytes_recv)
                .field("pkts_sent", st.pkts_sent)
                .field("pkts_recv", st.pkts_recv)
                .field("errors_send", st.send_errors)
                .field("errors_recv", st.recv_errors),
        )
        .field(
            "message_tracking",
            Json::object()
                .field("malformed", st.malformed)
                .field("lost", st.lost),
        )
        .field("extra", extra)
}

/// The resync line: `done: 1200 sessions in 35 ms, 12s ago`, …
fn resync_text(s: &SyncStatus, now: Instant) -> String {
    let ago = |t: Instant| format_duration(now.saturating_since(t));
    match s.resync {
        ResyncStatus::Idle => "idle".to_string(),
        ResyncStatus::Requested { since } => format!("requested {} ago", ago(since)),
        ResyncStatus::Receiving { since, sessions } => {
            format!(
                "receiving, {sessions} sessions so far ({} since the request)",
                ago(since)
            )
        }
        ResyncStatus::Done {
            at,
            sessions,
            duration,
        } => format!(
            "done: {sessions} sessions in {} ms, {} ago",
            duration.as_millis() as u64,
            ago(at)
        ),
        ResyncStatus::TimedOut { at } => format!(
            "timed out after {}, {} ago",
            format_duration(s.resync_timeout),
            ago(at)
        ),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn vrrp_text(v: &[(u8, crate::vrrp::VrrpState)]) -> String {
    if v.is_empty() {
        return "-".to_string();
    }
    let parts: Vec<String> = v
        .iter()
        .map(|(vrid, st)| format!("{vrid} {}", st.as_str()))
        .collect();
    parts.join(", ")
}

pub fn status(s: &SyncStatus, now: Instant) -> String {
    let f = &s.failover;
    let mut out = format!(
        "Node {} (boot {:#010x}), authentication {}, {} on device {}\n",
        s.node,
        s.boot,
        if s.authenticated { "on" } else { "off" },
        match s.peer {
            Some(p) => format!("unicast to {p}"),
            None => "multicast".to_string(),
        },
        s.device
    );
    let _ = writeln!(
        out,
        "Master: {}, preemption held: {}",
        yes_no(s.master),
        yes_no(s.preempt_held)
    );
    let _ = writeln!(
        out,
        "Resync: {} (timeout {})",
        resync_text(s, now),
        format_duration(s.resync_timeout)
    );
    let _ = writeln!(
        out,
        "Internal cache: {} sessions exported, {} pending; external cache: {} of {}",
        s.internal, s.pending, s.external, s.external_capacity
    );
    let last = match f.last_commit {
        Some((at, ok, failed)) => format!(
            "{} ago: {ok} sessions, {failed} failed",
            format_duration(now.saturating_since(at))
        ),
        None => "never".to_string(),
    };
    let _ = writeln!(
        out,
        "Failover: {} promotions, {} demotions, {} sessions committed ({} failed), last commit {last}",
        f.promotions, f.demotions, f.committed, f.commit_failed
    );
    let _ = writeln!(out, "Split-brain episodes: {}", f.split_brain);
    if s.peers.is_empty() {
        out.push_str("Peers: none heard yet\n");
        return out;
    }
    out.push_str("Peers:\n");
    let rows: Vec<Vec<String>> = s
        .peers
        .iter()
        .map(|p| {
            vec![
                p.node.to_string(),
                yes_no(p.up).to_string(),
                p.boot.map_or("-".to_string(), |b| format!("{b:#010x}")),
                format!(
                    "{} ago",
                    format_duration(now.saturating_since(p.last_heard))
                ),
                vrrp_text(&p.vrrp),
            ]
        })
        .collect();
    out.push_str(&table(&["Node", "Up", "Boot", "Last heard", "VRRP"], &rows));
    out
}

pub fn status_json(s: &SyncStatus, now: Instant) -> Json {
    let f = &s.failover;
    let secs = |t: Instant| now.saturating_since(t).as_secs();
    let resync = {
        let j = Json::object().field("state", s.resync.as_str());
        match s.resync {
            ResyncStatus::Idle => j,
            ResyncStatus::Requested { since } => j.field("since_seconds", secs(since)),
            ResyncStatus::Receiving { since, sessions } => j
                .field("since_seconds", secs(since))
                .field("sessions", sessions),
            ResyncStatus::Done {
                at,
                sessions,
                duration,
            } => j
                .field("ago_seconds", secs(at))
                .field("sessions", sessions)
                .field("duration_ms", duration.as_millis() as u64),
            ResyncStatus::TimedOut { at } => j.field("ago_seconds", secs(at)),
        }
        .field("timeout_seconds", s.resync_timeout.as_secs())
    };
    let peers: Vec<Json> = s
        .peers
        .iter()
        .map(|p| {
            let vrrp: Vec<Json> = p
                .vrrp
                .iter()
                .map(|(vrid, st)| {
                    Json::object()
                        .field("vrid", *vrid)
                        .field("state", st.as_str())
                })
                .collect();
            Json::object()
                .field("node", p.node)
                .field("up", p.up)
                .field("boot", p.boot)
                .field("last_heard_seconds", secs(p.last_heard))
                .field("vrrp", vrrp)
        })
        .collect();
    let last = f.last_commit.map(|(at, ok, failed)| {
        Json::object()
            .field("ago_seconds", secs(at))
            .field("committed", ok)
            .field("failed", failed)
    });
    Json::object()
        .field("node", s.node)
        .field("boot", s.boot)
        .field("authenticated", s.authenticated)
        .field("transport", transport(s))
        .field("peer_address", s.peer.map(|p| p.to_string()))
        .field("device", s.device.as_str())
        .field("master", s.master)
        .field("preemption_held", s.preempt_held)
        .field("resync", resync)
        .field("internal", s.internal as u64)
        .field("pending", s.pending as u64)
        .field("external", s.external as u64)
        .field("external_capacity", s.external_capacity as u64)
        .field(
            "failover",
            Json::object()
                .field("promotions", f.promotions)
                .field("demotions", f.demotions)
                .field("committed", f.committed)
                .field("commit_failed", f.commit_failed)
                .field("last_commit", last)
                .field("split_brain", f.split_brain),
        )
        .field("peers", peers)
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
