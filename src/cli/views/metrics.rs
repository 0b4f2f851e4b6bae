//! The dataplane and conntrack-sync families of `show metrics`: conntrack
//! (entries, capacity, events and drops by reason, fragments), NAT and
//! firewall rule counters, the ARP resolver, ICMP errors, and the sync
//! (traffic, errors, loss, caches, failover, resync state). Counters end
//! in `_total`; no ages as gauges. Families appear only when the snapshot
//! has their data (the engine runs; sync is configured).
//!
//! Owns: those families' names, help and labels. Never: the text format
//! (that is `show::metrics_text`).

use super::super::show::Family;
use super::firewall::action_str;
use super::nat::kind_str;
use crate::engine::{DataplaneStatus, Snapshot, SyncStatus};
use crate::sync::ResyncStatus;

type Labels = Vec<(&'static str, String)>;

#[inline(never)]
fn fam(
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: Vec<(Labels, u64)>,
) -> Family {
    Family {
        name,
        kind,
        help,
        samples,
    }
}

#[inline(never)]
fn one(name: &'static str, kind: &'static str, help: &'static str, v: u64) -> Family {
    fam(name, kind, help, vec![(vec![], v)])
}

/// `out.push(fam(…))` in one body for every family.
#[inline(never)]
fn push_fam(
    out: &mut Vec<Family>,
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: Vec<(Labels, u64)>,
) {
    out.push(fam(name, kind, help, samples));
}

/// `out.push(one(…))` in one body for every single-sample family.
#[inline(never)]
fn push_one(
    out: &mut Vec<Family>,
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    v: u64,
) {
    out.push(one(name, kind, help, v));
}

/// Every family for the snapshot's dataplane and sync.
pub fn families(snap: &Snapshot) -> Vec<Family> {
    let mut out = Vec::new();
    if let Some(dp) = &snap.dataplane {
        dataplane(&mut out, dp);
    }
    if let Some(s) = &snap.sync {
        sync(&mut out, s);
    }
    if let Some(b) = &snap.bfd {
        out.extend(super::bfd::families(b, one));
    }
    out.extend(super::host::families(snap));
    out
}

fn dataplane(out: &mut Vec<Family>, dp: &DataplaneStatus) {
    let c = &dp.conntrack;
    push_one(
        out,
        "hagw_conntrack_entries",
        "gauge",
        "Sessions in the conntrack table.",
        c.entries as u64,
    );
    push_one(
        out,
        "hagw_conntrack_capacity",
        "gauge",
        "Capacity of the conntrack table (conntrack.max_entries).",
        c.capacity as u64,
    );
    push_one(
        out,
        "hagw_conntrack_bytes_per_entry",
        "gauge",
        "Memory of the conntrack table divided by its capacity.",
        c.bytes_per_entry as u64,
    );
    let counters = super::conntrack::counters(&c.stats);
    let pick = |drop: bool, label: &'static str| -> Vec<(Labels, u64)> {
        counters
            .iter()
            .filter(|(_, _, d)| *d == drop)
            .map(|(k, v, _)| (vec![(label, (*k).to_string())], *v))
            .collect()
    };
    push_fam(
        out,
        "hagw_conntrack_events_total",
        "counter",
        "Conntrack table events: sessions inserted, synced, expired, removed, evicted, reopened, and TCP segments ignored or let through liberally.",
        pick(false, "event"),
    );
    push_fam(
        out,
        "hagw_conntrack_drops_total",
        "counter",
        "Packets or sessions the conntrack table refused, by reason.",
        pick(true, "reason"),
    );
    push_one(
        out,
        "hagw_conntrack_fragment_entries",
        "gauge",
        "Entries in the IP fragment table.",
        c.frag_entries as u64,
    );
    push_fam(
        out,
        "hagw_conntrack_fragments_total",
        "counter",
        "IP fragments: first fragments recorded, later fragments that followed them, entries evicted while alive.",
        vec![
            (vec![("event", "recorded".into())], c.frag.recorded),
            (vec![("event", "followed".into())], c.frag.followed),
            (vec![("event", "evicted".into())], c.frag.evicted),
        ],
    );

    let nat_labels = |r: &crate::nat::NatRuleSnapshot| -> Labels {
        vec![
            ("type", kind_str(r.kind).to_string()),
            ("rule", r.rule.to_string()),
            ("interface", r.interface.clone()),
        ]
    };
    let n = &dp.nat;
    push_fam(
        out,
        "hagw_nat_rule_sessions_total",
        "counter",
        "Flows translated by a NAT rule.",
        n.rules
            .iter()
            .map(|r| (nat_labels(r), r.counters.sessions))
            .collect(),
    );
    push_fam(
        out,
        "hagw_nat_rule_hairpin_sessions_total",
        "counter",
        "Flows a destination NAT rule reflected back into the LAN.",
        n.rules
            .iter()
            .filter(|r| r.kind == crate::nat::NatKind::Destination)
            .map(|r| (nat_labels(r), r.counters.hairpin_sessions))
            .collect(),
    );
    push_fam(
        out,
        "hagw_nat_rule_exhausted_total",
        "counter",
        "Flows of a NAT rule that found no free mapping.",
        n.rules
            .iter()
            .map(|r| (nat_labels(r), r.counters.exhausted))
            .collect(),
    );
    push_one(
        out,
        "hagw_nat_port_probes_total",
        "counter",
        "Port lookups made by source port searches.",
        n.probes,
    );

    let mut packets = Vec::new();
    let mut bytes = Vec::new();
    for rs in &dp.firewall.rulesets {
        let rows = rs
            .rules
            .iter()
            .map(|r| (r.number.to_string(), r.action, r.counters))
            .chain(core::iter::once((
                "default".to_string(),
                rs.default_action,
                rs.default,
            )));
        for (rule, action, c) in rows {
            let l: Labels = vec![
                ("ruleset", rs.name.clone()),
                ("rule", rule),
                ("action", action_str(action).to_string()),
            ];
            packets.push((l.clone(), c.packets));
            bytes.push((l, c.bytes));
        }
    }
    push_fam(
        out,
        "hagw_firewall_rule_packets_total",
        "counter",
        "Packets that took a firewall rule (rule=\"default\": the ruleset's default action).",
        packets,
    );
    push_fam(
        out,
        "hagw_firewall_rule_bytes_total",
        "counter",
        "IP bytes of the packets that took a firewall rule.",
        bytes,
    );

    push_one(
        out,
        "hagw_neighbour_entries",
        "gauge",
        "Entries in the ARP (neighbour) cache.",
        dp.neighbours.len() as u64,
    );
    push_fam(
        out,
        "hagw_neighbour_events_total",
        "counter",
        "ARP resolver events, by kind.",
        super::routes::counters(&dp.neigh_counters)
            .iter()
            .map(|(k, v)| (vec![("event", (*k).to_string())], *v))
            .collect(),
    );
    push_one(
        out,
        "hagw_icmp_errors_sent_total",
        "counter",
        "ICMP errors and TCP resets the router sent.",
        dp.icmp_sent,
    );
    push_one(
        out,
        "hagw_icmp_errors_rate_limited_total",
        "counter",
        "ICMP errors and TCP resets the rate limit held back.",
        dp.icmp_limited,
    );
}

/// The value of `hagw_sync_resync_state` (documented in its HELP).
pub fn resync_number(r: &ResyncStatus) -> u64 {
    match r {
        ResyncStatus::Idle => 0,
        ResyncStatus::Requested { .. } => 1,
        ResyncStatus::Receiving { .. } => 2,
        ResyncStatus::Done { .. } => 3,
        ResyncStatus::TimedOut { .. } => 4,
    }
}

fn sync(out: &mut Vec<Family>, s: &SyncStatus) {
    let st = &s.stats;
    let dir = |sent: u64, recv: u64| {
        vec![
            (vec![("direction", "sent".to_string())], sent),
            (vec![("direction", "received".to_string())], recv),
        ]
    };
    push_fam(
        out,
        "hagw_sync_bytes_total",
        "counter",
        "Bytes of conntrack-sync datagrams.",
        dir(st.bytes_sent, st.bytes_recv),
    );
    push_fam(
        out,
        "hagw_sync_packets_total",
        "counter",
        "Conntrack-sync datagrams.",
        dir(st.pkts_sent, st.pkts_recv),
    );
    push_fam(
        out,
        "hagw_sync_messages_total",
        "counter",
        "Conntrack-sync messages.",
        dir(st.msgs_sent, st.msgs_recv),
    );
    push_fam(
        out,
        "hagw_sync_errors_total",
        "counter",
        "Socket errors on the sync link, and frames dropped because the send queue was full.",
        vec![
            (vec![("direction", "sent".into())], st.send_errors),
            (vec![("direction", "received".into())], st.recv_errors),
            (
                vec![("direction", "send_queue_full".into())],
                st.send_queue_full,
            ),
        ],
    );
    push_fam(
        out,
        "hagw_sync_frames_dropped_total",
        "counter",
        "Received sync frames dropped, by reason.",
        [
            ("malformed", st.malformed),
            ("bad_version", st.bad_version),
            ("bad_crc", st.bad_crc),
            ("auth", st.auth_failures),
            ("replay", st.replays),
            ("duplicate", st.duplicates),
            ("looped", st.looped),
            ("unconfirmed", st.unconfirmed),
            ("unknown_peer", st.unknown_peer),
        ]
        .iter()
        .map(|(k, v)| (vec![("reason", (*k).to_string())], *v))
        .collect(),
    );
    push_one(
        out,
        "hagw_sync_lost_total",
        "counter",
        "Peer frames seen missing by sequence number.",
        st.lost,
    );
    push_one(
        out,
        "hagw_sync_unrecovered_total",
        "counter",
        "Lost peer frames never recovered.",
        st.unrecovered,
    );
    push_one(
        out,
        "hagw_sync_resent_total",
        "counter",
        "Frames resent from the ring to answer NACKs.",
        st.resent,
    );
    push_fam(
        out,
        "hagw_sync_nacks_total",
        "counter",
        "NACKs (requests to resend lost frames).",
        dir(st.nack_sent, st.nack_recv),
    );
    push_fam(
        out,
        "hagw_sync_exported_total",
        "counter",
        "Session changes exported from the internal cache, by kind.",
        vec![
            (vec![("kind", "new".into())], s.exported.created),
            (vec![("kind", "update".into())], s.exported.updated),
            (vec![("kind", "destroy".into())], s.exported.destroyed),
        ],
    );
    push_one(
        out,
        "hagw_sync_internal_entries",
        "gauge",
        "Live sessions exported to the peer (the internal cache).",
        s.internal as u64,
    );
    push_one(
        out,
        "hagw_sync_external_entries",
        "gauge",
        "Peer sessions held in the external cache.",
        s.external as u64,
    );
    push_one(
        out,
        "hagw_sync_external_capacity",
        "gauge",
        "Capacity of the external cache.",
        s.external_capacity as u64,
    );
    push_fam(
        out,
        "hagw_sync_external_events_total",
        "counter",
        "External cache events, by kind (the *_failed kinds name records for sessions the cache could not take or does not hold).",
        [
            ("created", st.ext_created),
            ("create_failed", st.ext_create_failed),
            ("updated", st.ext_updated),
            ("update_failed", st.ext_update_failed),
            ("destroyed", st.ext_destroyed),
            ("destroy_failed", st.ext_destroy_failed),
            ("expired", st.ext_expired),
            ("swept", st.ext_swept),
            ("replaced", st.ext_replaced),
            ("stale", st.ext_stale),
        ]
        .iter()
        .map(|(k, v)| (vec![("event", (*k).to_string())], *v))
        .collect(),
    );
    let f = &s.failover;
    push_one(
        out,
        "hagw_sync_master",
        "gauge",
        "1 if the synced groups are master here.",
        u64::from(s.master),
    );
    push_one(
        out,
        "hagw_sync_promotions_total",
        "counter",
        "Times the synced groups became master.",
        f.promotions,
    );
    push_one(
        out,
        "hagw_sync_demotions_total",
        "counter",
        "Times the synced groups left master.",
        f.demotions,
    );
    push_one(
        out,
        "hagw_sync_committed_total",
        "counter",
        "Sessions committed from the external cache into the live table on promotion.",
        f.committed,
    );
    push_one(
        out,
        "hagw_sync_commit_failed_total",
        "counter",
        "Sessions that could not be committed (conflict, table full, bad record).",
        f.commit_failed,
    );
    push_one(
        out,
        "hagw_sync_split_brain_total",
        "counter",
        "Split-brain episodes (two masters of one VRID) seen through the peers' keepalives.",
        f.split_brain,
    );
    push_one(
        out,
        "hagw_sync_resync_state",
        "gauge",
        "This node's resync: 0 idle, 1 requested, 2 receiving, 3 done, 4 timed out.",
        resync_number(&s.resync),
    );
    push_one(
        out,
        "hagw_sync_preemption_held",
        "gauge",
        "1 while the synced groups hold preemption until the resync ends.",
        u64::from(s.preempt_held),
    );
    push_fam(
        out,
        "hagw_sync_resync_requests_total",
        "counter",
        "Bulk resync requests.",
        dir(st.resync_requests_sent, st.resync_requests_recv),
    );
    push_fam(
        out,
        "hagw_sync_bulk_resyncs_total",
        "counter",
        "Bulk resyncs completed.",
        dir(st.bulk_sent, st.bulk_recv),
    );
    push_fam(
        out,
        "hagw_sync_peer_up",
        "gauge",
        "1 if the peer is heard from.",
        s.peers
            .iter()
            .map(|p| (vec![("node", p.node.to_string())], u64::from(p.up)))
            .collect(),
    );
}
