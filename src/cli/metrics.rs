//! `show metrics`: the VRRP group and port families, the families the
//! other views add, and the two formats (Prometheus text exposition, JSON).
//!
//! Owns: family names, help, labels and the text format. Never: sockets,
//! clocks (the caller passes the wall clock), state.

use super::json::Json;
use super::show::*;
use super::tracks;
use super::vrrp::group_drops;
use crate::engine::{PortStatus, Snapshot};
use crate::vrrp::{GroupStatus, VrrpState};
use core::fmt::Write;

/// One metric family: name, type, help, and its samples (labels, value).
pub(crate) struct Family {
    pub(crate) name: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) help: &'static str,
    pub(crate) samples: Vec<(Vec<(&'static str, String)>, u64)>,
}

/// The numeric value of a state in `hagw_vrrp_state` (documented in its HELP).
pub fn state_number(s: VrrpState) -> u64 {
    match s {
        VrrpState::Init => 0,
        VrrpState::Backup => 1,
        VrrpState::Master => 2,
        VrrpState::Fault => 3,
    }
}

/// One per-item metric family: name, type, help, and the item's value
/// (`None`: no sample for this item).
type Metric<T> = (
    &'static str,
    &'static str,
    &'static str,
    fn(&T) -> Option<u64>,
);

pub(super) const GROUP_METRICS: &[Metric<GroupStatus>] = &[
    (
        "hagw_vrrp_state",
        "gauge",
        "VRRP state of the group: 0 init, 1 backup, 2 master, 3 fault.",
        |g| Some(state_number(g.state)),
    ),
    (
        "hagw_vrrp_address_owner",
        "gauge",
        "1 if the group owns its virtual address (runs at priority 255).",
        |g| Some(u64::from(g.address_owner)),
    ),
    (
        "hagw_vrrp_priority",
        "gauge",
        "Priority the group sends in its adverts.",
        |g| Some(u64::from(g.priority)),
    ),
    (
        "hagw_vrrp_interface_up",
        "gauge",
        "1 if the group's interface is up.",
        |g| Some(u64::from(g.interface_up)),
    ),
    (
        "hagw_vrrp_adverts_received_total",
        "counter",
        "VRRP adverts received and accepted.",
        |g| Some(g.counters.adverts_rx),
    ),
    (
        "hagw_vrrp_adverts_sent_total",
        "counter",
        "VRRP adverts sent.",
        |g| Some(g.counters.adverts_tx),
    ),
    (
        "hagw_vrrp_became_master_total",
        "counter",
        "Transitions to master.",
        |g| Some(g.counters.became_master),
    ),
    (
        "hagw_vrrp_priority_zero_received_total",
        "counter",
        "Priority-0 (master resigning) adverts received.",
        |g| Some(g.counters.priority_zero_rx),
    ),
    (
        "hagw_vrrp_priority_zero_sent_total",
        "counter",
        "Priority-0 (master resigning) adverts sent.",
        |g| Some(g.counters.priority_zero_tx),
    ),
];

pub(super) const PORT_METRICS: &[Metric<PortStatus>] = &[
    (
        "hagw_interface_up",
        "gauge",
        "1 if the interface link is up.",
        |p| Some(u64::from(p.up)),
    ),
    (
        "hagw_interface_rx_frames_total",
        "counter",
        "Frames received on the interface.",
        |p| Some(p.rx_frames),
    ),
    (
        "hagw_interface_rx_bytes_total",
        "counter",
        "Bytes received on the interface.",
        |p| Some(p.rx_bytes),
    ),
    (
        "hagw_interface_tx_frames_total",
        "counter",
        "Frames sent on the interface.",
        |p| Some(p.tx_frames),
    ),
    (
        "hagw_interface_tx_bytes_total",
        "counter",
        "Bytes sent on the interface.",
        |p| Some(p.tx_bytes),
    ),
    (
        "hagw_interface_device_missing",
        "gauge",
        "1 if the interface's device does not exist (its VRRP groups are in FAULT).",
        |p| Some(u64::from(p.device_state.missing)),
    ),
    (
        "hagw_interface_kernel_ipv4_addresses",
        "gauge",
        "IPv4 addresses the kernel has on this hagw-owned device (should be 0).",
        |p| Some(p.device_state.kernel_ipv4.len() as u64),
    ),
];

/// The families of `metrics` over `items` (each sample labelled by
/// `labels`), then one counter family `drops` (name, help) with a sample
/// per item and drop reason, labelled also with the reason.
pub(super) fn item_families<T>(
    items: &[T],
    labels: impl Fn(&T) -> Vec<(&'static str, String)>,
    metrics: &[Metric<T>],
    drops: (&'static str, &'static str),
    reasons: impl Fn(&T) -> Vec<(&'static str, u64)>,
) -> Vec<Family> {
    let mut out: Vec<Family> = metrics
        .iter()
        .map(|&(name, kind, help, value)| Family {
            name,
            kind,
            help,
            samples: items
                .iter()
                .filter_map(|it| value(it).map(|v| (labels(it), v)))
                .collect(),
        })
        .collect();
    let mut dropped = Family {
        name: drops.0,
        kind: "counter",
        help: drops.1,
        samples: Vec::new(),
    };
    for it in items {
        for (reason, n) in reasons(it) {
            let mut l = labels(it);
            l.push(("reason", reason.to_string()));
            dropped.samples.push((l, n));
        }
    }
    out.push(dropped);
    out
}

pub(super) fn metrics_samples(snap: &Snapshot, wall_secs: u64) -> Vec<Family> {
    let mut out = super::stats::extra_families(snap, wall_secs);
    out.extend(item_families(
        &snap.groups,
        |g| {
            vec![
                ("group", g.name.clone()),
                ("interface", g.interface.clone()),
                ("vrid", g.vrid.to_string()),
            ]
        },
        GROUP_METRICS,
        (
            "hagw_vrrp_adverts_dropped_total",
            "VRRP adverts dropped, by reason.",
        ),
        |g| group_drops(g).to_vec(),
    ));
    out.extend(item_families(
        &snap.ports,
        |p| {
            vec![
                ("interface", p.name.clone()),
                ("device", p.device.clone()),
                ("role", role_str(p.role).to_string()),
            ]
        },
        PORT_METRICS,
        (
            "hagw_interface_drops_total",
            "Frames dropped on the interface, by reason.",
        ),
        |p| p.drops.clone(),
    ));
    out.extend(tracks::families(snap));
    out.extend(super::views::metric_families(snap));
    out
}

/// A label value escaped per the Prometheus text format: `\`, `"`, newline.
pub(super) fn prom_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn metrics_text(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families {
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        for (labels, value) in &f.samples {
            out.push_str(f.name);
            if !labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{k}=\"{}\"", prom_escape(v));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {value}");
        }
    }
    out
}

pub(super) fn metrics_json(families: &[Family]) -> Json {
    let metrics: Vec<Json> = families
        .iter()
        .map(|f| {
            let samples: Vec<Json> = f
                .samples
                .iter()
                .map(|(labels, value)| {
                    let mut l = Json::object();
                    for (k, v) in labels {
                        l = l.field(k, v.as_str());
                    }
                    Json::object().field("labels", l).field("value", *value)
                })
                .collect();
            Json::object()
                .field("name", f.name)
                .field("type", f.kind)
                .field("help", f.help)
                .field("samples", samples)
        })
        .collect();
    Json::object().field("metrics", metrics)
}
