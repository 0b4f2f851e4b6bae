//! `show vrrp summary | detail | interface NAME` (SPEC §5 layouts, text and
//! JSON) and the per-group drop reasons the statistics and metrics share.
//!
//! Owns: those views of a snapshot. Never: sockets, clocks, state.

use super::json::Json;
use super::show::*;
use super::tracks;
use crate::config::Ipv4Cidr;
use crate::engine::Snapshot;
use crate::time::Duration;
use crate::vrrp::GroupStatus;
use core::fmt::Write;

pub(super) fn vrrp_summary(snap: &Snapshot) -> String {
    let mut rows = Vec::new();
    for g in &snap.groups {
        for vip in &g.vips {
            rows.push(vec![
                g.interface.clone(),
                g.vrid.to_string(),
                "vip".to_string(),
                vip.addr.to_string(),
                super::device::missing_device(snap, &g.interface)
                    .map_or(up_down(g.interface_up), |_| "missing")
                    .to_string(),
                yes_no(g.address_owner).to_string(),
                g.state.as_str().to_string(),
            ]);
        }
    }
    table(
        &[
            "Interface",
            "VRRP Group",
            "Addr Type",
            "Address",
            "Interface State",
            "Address Owner",
            "VRRP State",
        ],
        &rows,
    )
}

pub(super) fn vrrp_detail(
    groups: &[&GroupStatus],
    tracks: &[crate::engine::TrackStatus],
) -> String {
    if groups.is_empty() {
        return "No VRRP groups configured.\n".to_string();
    }
    let mut out = String::new();
    for (i, g) in groups.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        group_block(&mut out, g);
        tracks::group_lines(&mut out, &g.name, tracks);
    }
    out
}

pub(super) fn group_block(out: &mut String, g: &GroupStatus) {
    let vips: Vec<String> = g.vips.iter().map(|v| v.addr.to_string()).collect();
    let priority = if g.priority == g.configured_priority {
        g.priority.to_string()
    } else {
        format!("{} (configured {})", g.priority, g.configured_priority)
    };
    let master = g
        .master_router
        .map_or("none".to_string(), |a| a.to_string());
    let transition = g
        .last_transition
        .map_or("never".to_string(), format_duration);
    let c = &g.counters;
    let _ = writeln!(
        out,
        "Physical interface: {}, Source Address {}",
        g.interface, g.source_address
    );
    let _ = writeln!(
        out,
        "Interface state: {}, Group {}, State: {}",
        up_down(g.interface_up),
        g.vrid,
        g.state.as_str()
    );
    let _ = writeln!(
        out,
        "Priority: {priority}, Advertisement interval: {}, Authentication type: {}",
        format_centis(g.advert_interval_cs),
        g.auth_type
    );
    let _ = writeln!(
        out,
        "Preempt: {}, VIP count: {}, VIP: {}",
        g.preempt,
        vips.len(),
        vips.join(" ")
    );
    let _ = writeln!(out, "Master router: {master}");
    let _ = writeln!(out, "Last transition: {transition}");
    // Beyond the spec's lines: what an operator needs to debug an election.
    let master_prio = g.master_priority.map_or("-".to_string(), |p| p.to_string());
    let _ = write!(
        out,
        "Group name: {}, VRRP version: {}, Address owner: {}, Master priority: {master_prio}",
        g.name,
        g.version,
        yes_no(g.address_owner)
    );
    if g.version == 3 {
        let _ = write!(
            out,
            ", Master advertisement interval: {}",
            format_centis(g.master_advert_interval_cs)
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Preempt delay: {}s, Sync group: {}",
        g.preempt_delay_secs,
        g.sync_group.as_deref().unwrap_or("none")
    );
    let _ = writeln!(
        out,
        "Adverts received: {}, sent: {}, Priority-zero received: {}, sent: {}, Became master: {}",
        c.adverts_rx, c.adverts_tx, c.priority_zero_rx, c.priority_zero_tx, c.became_master
    );
    let drops = group_drops(g);
    let total: u64 = drops.iter().map(|(_, n)| *n).fold(0, u64::saturating_add);
    let detail: Vec<String> = drops
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    if detail.is_empty() {
        let _ = writeln!(out, "Adverts dropped: {total}");
    } else {
        let _ = writeln!(out, "Adverts dropped: {total} ({})", detail.join(", "));
    }
}

/// A group's drop counters by reason (the label used in text, JSON and metrics).
pub(crate) fn group_drops(g: &GroupStatus) -> [(&'static str, u64); 9] {
    let c = &g.counters;
    [
        ("ttl", c.rx_ttl_error),
        ("checksum", c.rx_checksum_error),
        ("version", c.rx_version_error),
        ("length", c.rx_length_error),
        ("address_list", c.rx_address_list_error),
        ("auth", c.rx_auth_error),
        ("replay", c.rx_ah_replay),
        ("interval", c.rx_interval_mismatch),
        ("owner_conflict", c.owner_conflict),
    ]
}

pub(super) fn cidr_json(c: &Ipv4Cidr) -> Json {
    Json::object()
        .field("address", c.addr.to_string())
        .field("prefix_len", c.prefix_len)
}

pub(super) fn centis_secs(cs: u16) -> Json {
    Json::Dec(u64::from(cs), 2)
}

pub(super) fn duration_secs(d: Duration) -> Json {
    // Millisecond precision is plenty and keeps the numbers short.
    Json::Dec(crate::time::millis(d), 3)
}

pub(super) fn vrrp_summary_json(snap: &Snapshot) -> Json {
    let groups: Vec<Json> = snap
        .groups
        .iter()
        .map(|g| {
            Json::object()
                .field("name", g.name.as_str())
                .field("interface", g.interface.as_str())
                .field("vrid", g.vrid)
                .field("interface_up", g.interface_up)
                .field("address_owner", g.address_owner)
                .field("state", g.state.as_str())
                .field("vips", g.vips.iter().map(cidr_json).collect::<Vec<_>>())
        })
        .collect();
    Json::object().field("groups", groups)
}

pub(super) fn group_json(g: &GroupStatus) -> Json {
    let c = &g.counters;
    let mut drops = Json::object();
    for (reason, n) in group_drops(g) {
        drops = drops.field(reason, n);
    }
    let counters = Json::object()
        .field("adverts_rx", c.adverts_rx)
        .field("adverts_tx", c.adverts_tx)
        .field("became_master", c.became_master)
        .field("priority_zero_rx", c.priority_zero_rx)
        .field("priority_zero_tx", c.priority_zero_tx)
        .field("drops", drops);
    Json::object()
        .field("name", g.name.as_str())
        .field("interface", g.interface.as_str())
        .field("interface_up", g.interface_up)
        .field("vrid", g.vrid)
        .field("version", g.version)
        .field("state", g.state.as_str())
        .field("address_owner", g.address_owner)
        .field("priority", g.priority)
        .field("configured_priority", g.configured_priority)
        .field("advert_interval_seconds", centis_secs(g.advert_interval_cs))
        .field(
            "master_advert_interval_seconds",
            centis_secs(g.master_advert_interval_cs),
        )
        .field("auth_type", g.auth_type)
        .field("preempt", g.preempt)
        .field("preempt_delay_seconds", g.preempt_delay_secs)
        .field("vips", g.vips.iter().map(cidr_json).collect::<Vec<_>>())
        .field("source_address", g.source_address.to_string())
        .field("master_router", g.master_router.map(|a| a.to_string()))
        .field("master_priority", g.master_priority)
        .field("sync_group", g.sync_group.as_deref())
        .field(
            "last_transition_seconds",
            g.last_transition.map(duration_secs),
        )
        .field("counters", counters)
}

pub(super) fn vrrp_detail_json(
    groups: &[&GroupStatus],
    tracks: &[crate::engine::TrackStatus],
) -> Json {
    Json::object().field(
        "groups",
        groups
            .iter()
            .map(|g| {
                let mine: Vec<Json> = tracks
                    .iter()
                    .filter(|t| t.groups.contains(&g.name))
                    .map(tracks::track_json)
                    .collect();
                group_json(g).field("tracks", mine)
            })
            .collect::<Vec<_>>(),
    )
}

/// `vrrp detail` text plus, per group on a missing device, which device.
pub(super) fn with_missing(mut out: String, groups: &[&GroupStatus], snap: &Snapshot) -> String {
    for g in groups {
        if let Some(d) = super::device::missing_device(snap, &g.interface) {
            let _ = writeln!(
                out,
                "Group {}: device {d} of interface {} is missing; in FAULT until it appears",
                g.name, g.interface
            );
        }
    }
    out
}
