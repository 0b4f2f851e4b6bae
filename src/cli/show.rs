//! Rendering of `show` output (text tables in the layouts of SPEC §5, JSON,
//! and Prometheus text metrics) from an engine `Snapshot`.
//!
//! Owns: parsing a request's words and turning a snapshot into what the
//! operator reads. Never: sockets, clocks (the caller passes `now`), or any
//! state of its own. Pure functions.

use super::json::Json;
use super::tracks;
use crate::config::{Ipv4Cidr, Role};
use crate::engine::{PortStatus, Snapshot};
use crate::time::{Duration, Instant};
use crate::vrrp::{GroupStatus, VrrpState};
use core::fmt::Write;

/// The views `answer` knows, as shown in its error message.
pub const VIEWS: &str = "vrrp summary, vrrp interface NAME, vrrp detail, vrrp statistics, interfaces, tracks, \
     conntrack, conntrack statistics, nat rules, firewall, routes, \
     conntrack-sync status|statistics|internal-cache|external-cache, bfd, metrics (each also with --json)";

/// Answer one control request (the words after `hagw show`, plus `--json`
/// if given, e.g. "vrrp summary --json") from a snapshot taken at `now`.
/// `Ok(text)` is printed as is; `Err(message)` means a bad request.
/// Whether the request needs the session list in its snapshot.
pub fn needs_sessions(request: &str) -> bool {
    super::views::needs_sessions(request)
}

pub fn answer(request: &str, snap: &Snapshot, now: Instant) -> Result<String, String> {
    answer_at(request, snap, now, 0)
}

/// `answer` with the wall clock (Unix seconds; 0 when unknown), for the
/// metrics that are times rather than ages.
pub fn answer_at(
    request: &str,
    snap: &Snapshot,
    now: Instant,
    wall_secs: u64,
) -> Result<String, String> {
    let mut json = false;
    let mut words: Vec<&str> = Vec::new();
    for w in request.split_whitespace() {
        if w == "--json" {
            json = true;
        } else {
            words.push(w);
        }
    }
    if let Some(r) = super::views::answer(&words, snap, json, now) {
        return r;
    }
    match words.as_slice() {
        // Bare `show vrrp` is the summary, as on VyOS.
        ["vrrp"] | ["vrrp", "summary"] => Ok(if json {
            vrrp_summary_json(snap).to_pretty()
        } else {
            vrrp_summary(snap)
        }),
        ["vrrp", "statistics"] => Ok(if json {
            super::stats::vrrp_statistics_json(snap).to_pretty()
        } else {
            super::stats::vrrp_statistics(snap)
        }),
        ["vrrp", "detail"] => {
            let groups: Vec<&GroupStatus> = snap.groups.iter().collect();
            Ok(if json {
                vrrp_detail_json(&groups, &snap.tracks).to_pretty()
            } else {
                vrrp_detail(&groups, &snap.tracks)
            })
        }
        ["vrrp", "interface", name] => {
            let groups: Vec<&GroupStatus> = snap
                .groups
                .iter()
                .filter(|g| g.interface == *name)
                .collect();
            if groups.is_empty() {
                return Err(format!("no VRRP group on interface {}", printable(name)));
            }
            Ok(if json {
                vrrp_detail_json(&groups, &snap.tracks).to_pretty()
            } else {
                vrrp_detail(&groups, &snap.tracks)
            })
        }
        ["tracks"] => Ok(if json {
            tracks::tracks_json(snap).to_pretty()
        } else {
            tracks::tracks_text(snap)
        }),
        ["interfaces"] => Ok(if json {
            interfaces_json(snap).to_pretty()
        } else {
            interfaces(snap)
        }),
        ["metrics"] => {
            let samples = metrics_samples(snap, wall_secs);
            Ok(if json {
                metrics_json(&samples).to_pretty()
            } else {
                metrics_text(&samples)
            })
        }
        [] => Err(format!("show what? known views: {VIEWS}")),
        _ => Err(format!(
            "unknown view `{}`; known views: {VIEWS}",
            printable(&words.join(" "))
        )),
    }
}

/// A request word echoed in an error message, with control characters
/// replaced so a hostile request cannot mess up a terminal.
fn printable(s: &str) -> String {
    s.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Elapsed time as `2h11m27s`: the largest unit unpadded, smaller ones as
/// two digits; `3s`, `1m05s`, `2h00m07s`, `3d04h05m06s`. Whole seconds
/// (truncated).
pub fn format_duration(d: Duration) -> String {
    let total = d.as_secs();
    let (days, rem) = (total / 86_400, total % 86_400);
    let (hours, rem) = (rem / 3600, rem % 3600);
    let (mins, secs) = (rem / 60, rem % 60);
    if days > 0 {
        format!("{days}d{hours:02}h{mins:02}m{secs:02}s")
    } else if hours > 0 {
        format!("{hours}h{mins:02}m{secs:02}s")
    } else if mins > 0 {
        format!("{mins}m{secs:02}s")
    } else {
        format!("{secs}s")
    }
}

/// Centiseconds as seconds with no needless digits: 100 → `1`, 10 → `0.1`,
/// 150 → `1.5`, 5 → `0.05`.
pub fn format_centis(cs: u16) -> String {
    let (whole, frac) = (cs / 100, cs % 100);
    if frac == 0 {
        format!("{whole}")
    } else if frac % 10 == 0 {
        format!("{whole}.{}", frac / 10)
    } else {
        format!("{whole}.{frac:02}")
    }
}

fn up_down(up: bool) -> &'static str {
    if up { "up" } else { "down" }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn role_str(r: Role) -> &'static str {
    match r {
        Role::Lan => "lan",
        Role::Wan => "wan",
        Role::Sync => "sync",
    }
}

fn mac_str(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// Lay out rows under headers: each column as wide as its widest cell,
/// two spaces between columns, dashes under each header as wide as the
/// column, no trailing spaces.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = String>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            l.push_str(&cell);
            for _ in cell.chars().count()..*w {
                l.push(' ');
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().map(|h| h.to_string()));
    line(&mut widths.iter().map(|w| "-".repeat(*w)));
    for row in rows {
        line(&mut row.iter().cloned());
    }
    out
}

fn vrrp_summary(snap: &Snapshot) -> String {
    let mut rows = Vec::new();
    for g in &snap.groups {
        for vip in &g.vips {
            rows.push(vec![
                g.interface.clone(),
                g.vrid.to_string(),
                "vip".to_string(),
                vip.addr.to_string(),
                up_down(g.interface_up).to_string(),
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

fn vrrp_detail(groups: &[&GroupStatus], tracks: &[crate::engine::TrackStatus]) -> String {
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

fn group_block(out: &mut String, g: &GroupStatus) {
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
pub(super) fn group_drops(g: &GroupStatus) -> [(&'static str, u64); 8] {
    let c = &g.counters;
    [
        ("ttl", c.rx_ttl_error),
        ("checksum", c.rx_checksum_error),
        ("version", c.rx_version_error),
        ("length", c.rx_length_error),
        ("address_list", c.rx_address_list_error),
        ("auth", c.rx_auth_error),
        ("interval", c.rx_interval_mismatch),
        ("owner_conflict", c.owner_conflict),
    ]
}

fn cidr_json(c: &Ipv4Cidr) -> Json {
    Json::object()
        .field("address", c.addr.to_string())
        .field("prefix_len", c.prefix_len)
}

fn centis_secs(cs: u16) -> Json {
    Json::Dec(u64::from(cs), 2)
}

fn duration_secs(d: Duration) -> Json {
    // Millisecond precision is plenty and keeps the numbers short.
    Json::Dec(u64::try_from(d.as_millis()).unwrap_or(u64::MAX), 3)
}

fn vrrp_summary_json(snap: &Snapshot) -> Json {
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

fn group_json(g: &GroupStatus) -> Json {
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

fn vrrp_detail_json(groups: &[&GroupStatus], tracks: &[crate::engine::TrackStatus]) -> Json {
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

fn port_drop_total(p: &PortStatus) -> u64 {
    p.drops.iter().map(|(_, n)| *n).fold(0, u64::saturating_add)
}

fn interfaces(snap: &Snapshot) -> String {
    if snap.ports.is_empty() {
        return "No interfaces configured.\n".to_string();
    }
    let mut out = String::new();
    for (i, p) in snap.ports.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "Interface {} (device {}, role {}): {}",
            p.name,
            p.device,
            role_str(p.role),
            up_down(p.up)
        );
        let _ = writeln!(out, "  MAC {}, address {}", mac_str(p.mac), p.address);
        let _ = writeln!(
            out,
            "  rx: {} frames, {} bytes; tx: {} frames, {} bytes",
            p.rx_frames, p.rx_bytes, p.tx_frames, p.tx_bytes
        );
        let detail: Vec<String> = p
            .drops
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        if detail.is_empty() {
            let _ = writeln!(out, "  drops: {}", port_drop_total(p));
        } else {
            let _ = writeln!(
                out,
                "  drops: {} ({})",
                port_drop_total(p),
                detail.join(", ")
            );
        }
        out.push_str(&super::views::host::text(p));
    }
    out
}

fn interfaces_json(snap: &Snapshot) -> Json {
    let ports: Vec<Json> = snap
        .ports
        .iter()
        .map(|p| {
            let mut drops = Json::object();
            for (reason, n) in &p.drops {
                drops = drops.field(reason, *n);
            }
            Json::object()
                .field("name", p.name.as_str())
                .field("device", p.device.as_str())
                .field("role", role_str(p.role))
                .field("up", p.up)
                .field("mac", mac_str(p.mac))
                .field("address", cidr_json(&p.address))
                .field("rx_frames", p.rx_frames)
                .field("rx_bytes", p.rx_bytes)
                .field("tx_frames", p.tx_frames)
                .field("tx_bytes", p.tx_bytes)
                .field("drops_total", port_drop_total(p))
                .field("drops", drops)
                .field("host_tap", super::views::host::json(p))
        })
        .collect();
    Json::object().field("interfaces", ports)
}

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

const GROUP_METRICS: &[Metric<GroupStatus>] = &[
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

const PORT_METRICS: &[Metric<PortStatus>] = &[
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
];

/// The families of `metrics` over `items` (each sample labelled by
/// `labels`), then one counter family `drops` (name, help) with a sample
/// per item and drop reason, labelled also with the reason.
fn item_families<T>(
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

fn metrics_samples(snap: &Snapshot, wall_secs: u64) -> Vec<Family> {
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
fn prom_escape(s: &str) -> String {
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

fn metrics_text(families: &[Family]) -> String {
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

fn metrics_json(families: &[Family]) -> Json {
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

#[cfg(test)]
pub(super) mod tests {
    use super::super::json::check::parse;
    use super::*;
    use crate::vrrp::GroupCounters;
    use std::net::Ipv4Addr;

    fn cidr(s: &str, len: u8) -> Ipv4Cidr {
        Ipv4Cidr {
            addr: s.parse().unwrap(),
            prefix_len: len,
        }
    }

    /// The group of the SPEC §5 `show vrrp summary` example.
    pub(in crate::cli) fn spec_summary_group() -> GroupStatus {
        GroupStatus {
            name: "lan42".into(),
            interface: "lan".into(),
            interface_up: true,
            vrid: 42,
            version: 2,
            state: VrrpState::Backup,
            address_owner: false,
            priority: 100,
            configured_priority: 100,
            advert_interval_cs: 100,
            master_advert_interval_cs: 100,
            auth_type: "none",
            preempt: true,
            preempt_delay_secs: 0,
            vips: vec![cidr("192.168.42.50", 24)],
            source_address: Ipv4Addr::new(192, 168, 42, 2),
            master_router: Some(Ipv4Addr::new(192, 168, 42, 3)),
            master_priority: Some(100),
            sync_group: None,
            last_transition: Some(Duration::from_secs(5)),
            counters: GroupCounters::default(),
        }
    }

    /// The group of the SPEC §5 `show vrrp interface lan` example.
    fn spec_interface_group() -> GroupStatus {
        GroupStatus {
            name: "g42".into(),
            interface: "lan".into(),
            interface_up: true,
            vrid: 42,
            version: 2,
            state: VrrpState::Master,
            address_owner: false,
            priority: 1,
            configured_priority: 1,
            advert_interval_cs: 100,
            master_advert_interval_cs: 100,
            auth_type: "none",
            preempt: false,
            preempt_delay_secs: 0,
            vips: vec![cidr("172.16.42.50", 24)],
            source_address: Ipv4Addr::new(172, 16, 42, 2),
            master_router: Some(Ipv4Addr::new(172, 16, 42, 2)),
            master_priority: Some(1),
            sync_group: None,
            last_transition: Some(Duration::from_secs(2 * 3600 + 11 * 60 + 27)),
            counters: GroupCounters {
                adverts_rx: 3,
                adverts_tx: 7887,
                became_master: 1,
                rx_ttl_error: 2,
                rx_auth_error: 5,
                ..GroupCounters::default()
            },
        }
    }

    fn port(name: &str, device: &str, role: Role) -> PortStatus {
        PortStatus {
            name: name.into(),
            device: device.into(),
            role,
            mac: [0x02, 0x00, 0x5e, 0x10, 0x0a, 0xff],
            address: cidr("172.16.42.2", 24),
            up: true,
            rx_frames: 1200,
            rx_bytes: 98_765,
            tx_frames: 34,
            tx_bytes: 2_176,
            drops: vec![("vrrp_ttl", 3), ("vrrp_checksum", 0), ("no_route", 4)],
            host_tap: None,
        }
    }

    pub(in crate::cli) fn snap(groups: Vec<GroupStatus>, ports: Vec<PortStatus>) -> Snapshot {
        Snapshot {
            groups,
            ports,
            dataplane: None,
            sync: None,
            bfd: None,
            tracks: Vec::new(),
        }
    }

    const NOW: Instant = Instant::from_secs(1000);

    #[test]
    fn summary_matches_spec_example_exactly() {
        let s = snap(vec![spec_summary_group()], vec![]);
        let expected = "\
Interface  VRRP Group  Addr Type  Address        Interface State  Address Owner  VRRP State
---------  ----------  ---------  -------------  ---------------  -------------  ----------
lan        42          vip        192.168.42.50  up               no             backup
";
        assert_eq!(answer("vrrp summary", &s, NOW).unwrap(), expected);
        // Extra whitespace in the request does not matter.
        assert_eq!(answer("  vrrp   summary \n", &s, NOW).unwrap(), expected);
    }

    #[test]
    fn summary_columns_widen_for_long_content_and_list_every_vip() {
        let mut a = spec_summary_group();
        a.interface = "wan-uplink-0".into();
        a.vrid = 255;
        a.vips = vec![cidr("10.200.200.200", 24), cidr("10.0.0.1", 32)];
        a.state = VrrpState::Master;
        a.address_owner = true;
        a.interface_up = false;
        let mut b = spec_summary_group();
        b.state = VrrpState::Fault;
        b.vrid = 7;
        let s = snap(vec![a, b], vec![]);
        let expected = "\
Interface     VRRP Group  Addr Type  Address         Interface State  Address Owner  VRRP State
------------  ----------  ---------  --------------  ---------------  -------------  ----------
wan-uplink-0  255         vip        10.200.200.200  down             yes            master
wan-uplink-0  255         vip        10.0.0.1        down             yes            master
lan           7           vip        192.168.42.50   up               no             fault
";
        assert_eq!(answer("vrrp summary", &s, NOW).unwrap(), expected);
    }

    #[test]
    fn summary_with_no_groups_is_just_the_header() {
        let s = snap(vec![], vec![]);
        let expected = "\
Interface  VRRP Group  Addr Type  Address  Interface State  Address Owner  VRRP State
---------  ----------  ---------  -------  ---------------  -------------  ----------
";
        assert_eq!(answer("vrrp summary", &s, NOW).unwrap(), expected);
    }

    #[test]
    fn table_widens_last_column_without_trailing_spaces() {
        let t = table(
            &["A", "B"],
            &[
                vec!["x".into(), "long-value".into()],
                vec!["yy".into(), "z".into()],
            ],
        );
        assert_eq!(t, "A   B\n--  ----------\nx   long-value\nyy  z\n");
    }

    #[test]
    fn interface_matches_spec_example_then_counters() {
        let s = snap(vec![spec_interface_group()], vec![]);
        let expected = "\
Physical interface: lan, Source Address 172.16.42.2
Interface state: up, Group 42, State: master
Priority: 1, Advertisement interval: 1, Authentication type: none
Preempt: false, VIP count: 1, VIP: 172.16.42.50
Master router: 172.16.42.2
Last transition: 2h11m27s
Group name: g42, VRRP version: 2, Address owner: no, Master priority: 1
Preempt delay: 0s, Sync group: none
Adverts received: 3, sent: 7887, Priority-zero received: 0, sent: 0, Became master: 1
Adverts dropped: 7 (ttl 2, auth 5)
";
        assert_eq!(answer("vrrp interface lan", &s, NOW).unwrap(), expected);
    }

    #[test]
    fn interface_v3_several_groups_and_vips() {
        let mut a = spec_interface_group();
        a.version = 3;
        a.advert_interval_cs = 10;
        a.master_advert_interval_cs = 150;
        a.state = VrrpState::Backup;
        a.priority = 254;
        a.configured_priority = 255;
        a.preempt = true;
        a.preempt_delay_secs = 30;
        a.sync_group = Some("gw".into());
        a.vips = vec![cidr("172.16.42.50", 24), cidr("172.16.42.51", 24)];
        a.master_router = Some(Ipv4Addr::new(172, 16, 42, 3));
        a.master_priority = Some(255);
        a.last_transition = Some(Duration::from_secs(65));
        a.counters = GroupCounters::default();
        let mut b = spec_interface_group();
        b.vrid = 43;
        b.name = "g43".into();
        b.master_router = None;
        b.master_priority = None;
        b.last_transition = None;
        b.state = VrrpState::Init;
        b.counters = GroupCounters::default();
        let mut other = spec_interface_group();
        other.interface = "wan".into();
        let s = snap(vec![a, other, b], vec![]);
        let expected = "\
Physical interface: lan, Source Address 172.16.42.2
Interface state: up, Group 42, State: backup
Priority: 254 (configured 255), Advertisement interval: 0.1, Authentication type: none
Preempt: true, VIP count: 2, VIP: 172.16.42.50 172.16.42.51
Master router: 172.16.42.3
Last transition: 1m05s
Group name: g42, VRRP version: 3, Address owner: no, Master priority: 255, Master advertisement interval: 1.5
Preempt delay: 30s, Sync group: gw
Adverts received: 0, sent: 0, Priority-zero received: 0, sent: 0, Became master: 0
Adverts dropped: 0

Physical interface: lan, Source Address 172.16.42.2
Interface state: up, Group 43, State: init
Priority: 1, Advertisement interval: 1, Authentication type: none
Preempt: false, VIP count: 1, VIP: 172.16.42.50
Master router: none
Last transition: never
Group name: g43, VRRP version: 2, Address owner: no, Master priority: -
Preempt delay: 0s, Sync group: none
Adverts received: 0, sent: 0, Priority-zero received: 0, sent: 0, Became master: 0
Adverts dropped: 0
";
        assert_eq!(answer("vrrp interface lan", &s, NOW).unwrap(), expected);
        // `vrrp` alone shows every group, the wan one included.
        let all = answer("vrrp detail", &s, NOW).unwrap();
        assert_eq!(all.matches("Physical interface: ").count(), 3);
        assert!(all.contains("Physical interface: wan,"));
        // Bare `vrrp` is the summary (VyOS), in text and JSON.
        assert_eq!(
            answer("vrrp", &s, NOW).unwrap(),
            answer("vrrp summary", &s, NOW).unwrap()
        );
        assert_eq!(
            answer("vrrp --json", &s, NOW).unwrap(),
            answer("vrrp summary --json", &s, NOW).unwrap()
        );
    }

    #[test]
    fn unknown_interface_is_an_error() {
        let s = snap(vec![spec_interface_group()], vec![]);
        assert_eq!(
            answer("vrrp interface wan", &s, NOW),
            Err("no VRRP group on interface wan".to_string())
        );
        assert_eq!(
            answer("vrrp interface wan --json", &s, NOW),
            Err("no VRRP group on interface wan".to_string())
        );
    }

    #[test]
    fn unknown_views_list_the_known_ones() {
        let s = snap(vec![], vec![]);
        for bad in [
            "",
            "vrrp bogus",
            "vrrp interface",
            "interfaces extra",
            "\u{1b}[2J",
        ] {
            let e = answer(bad, &s, NOW).unwrap_err();
            assert!(
                e.contains("vrrp summary, vrrp interface NAME"),
                "{bad:?}: {e}"
            );
            assert!(
                e.contains("interfaces") && e.contains("metrics"),
                "{bad:?}: {e}"
            );
            assert!(!e.chars().any(|c| c.is_control()), "{bad:?}: {e:?}");
        }
    }

    #[test]
    fn empty_views_say_so() {
        let s = snap(vec![], vec![]);
        assert_eq!(
            answer("vrrp detail", &s, NOW).unwrap(),
            "No VRRP groups configured.\n"
        );
        assert_eq!(
            answer("vrrp statistics", &s, NOW).unwrap(),
            "No VRRP groups configured.\n"
        );
        assert_eq!(
            answer("interfaces", &s, NOW).unwrap(),
            "No interfaces configured.\n"
        );
        assert_eq!(
            answer("vrrp detail --json", &s, NOW).unwrap(),
            "{\n  \"groups\": []\n}\n"
        );
        assert_eq!(
            answer("interfaces --json", &s, NOW).unwrap(),
            "{\n  \"interfaces\": []\n}\n"
        );
        // Metrics still declare every family, with no samples (but build_info).
        let m = answer_at("metrics", &s, NOW, 1_800_000_000).unwrap();
        assert_eq!(m.lines().filter(|l| l.starts_with("# TYPE ")).count(), 26);
        assert_eq!(
            answer("tracks", &s, NOW).unwrap(),
            "No health tracks configured.\n"
        );
        assert!(
            m.lines()
                .all(|l| l.starts_with('#') || l.starts_with("hagw_build_info{")),
            "{m}"
        );
    }

    #[test]
    fn durations() {
        let f = |s| format_duration(Duration::from_secs(s));
        assert_eq!(f(0), "0s");
        assert_eq!(f(3), "3s");
        assert_eq!(f(59), "59s");
        assert_eq!(f(60), "1m00s");
        assert_eq!(f(65), "1m05s");
        assert_eq!(f(3599), "59m59s");
        assert_eq!(f(3600), "1h00m00s");
        assert_eq!(f(3607), "1h00m07s");
        assert_eq!(f(2 * 3600 + 11 * 60 + 27), "2h11m27s");
        assert_eq!(f(86_399), "23h59m59s");
        assert_eq!(f(86_400 + 4 * 3600 + 5 * 60 + 6), "1d04h05m06s");
        assert_eq!(format_duration(Duration::from_millis(2999)), "2s");
        assert!(format_duration(Duration::MAX).starts_with("213503982334601d"));
    }

    #[test]
    fn centiseconds() {
        assert_eq!(format_centis(100), "1");
        assert_eq!(format_centis(25500), "255");
        assert_eq!(format_centis(10), "0.1");
        assert_eq!(format_centis(1), "0.01");
        assert_eq!(format_centis(150), "1.5");
        assert_eq!(format_centis(4095), "40.95");
        assert_eq!(format_centis(0), "0");
    }

    #[test]
    fn interfaces_text_lists_nonzero_drop_reasons() {
        let mut wan = port("wan", "eth1", Role::Wan);
        wan.up = false;
        wan.drops = vec![("vrrp_ttl", 0)];
        let s = snap(vec![], vec![port("lan", "lan0", Role::Lan), wan]);
        let expected = "\
Interface lan (device lan0, role lan): up
  MAC 02:00:5e:10:0a:ff, address 172.16.42.2/24
  rx: 1200 frames, 98765 bytes; tx: 34 frames, 2176 bytes
  drops: 7 (vrrp_ttl 3, no_route 4)

Interface wan (device eth1, role wan): down
  MAC 02:00:5e:10:0a:ff, address 172.16.42.2/24
  rx: 1200 frames, 98765 bytes; tx: 34 frames, 2176 bytes
  drops: 0
";
        assert_eq!(answer("interfaces", &s, NOW).unwrap(), expected);
    }

    #[test]
    fn summary_json() {
        let mut g = spec_summary_group();
        g.name = "quote\"name".into();
        let s = snap(vec![g], vec![]);
        let text = answer("vrrp summary --json", &s, NOW).unwrap();
        assert!(text.ends_with("}\n"));
        let v = parse(&text).unwrap();
        let expected = Json::object().field(
            "groups",
            vec![
                Json::object()
                    .field("name", "quote\"name")
                    .field("interface", "lan")
                    .field("vrid", 42u8)
                    .field("interface_up", true)
                    .field("address_owner", false)
                    .field("state", "backup")
                    .field(
                        "vips",
                        vec![
                            Json::object()
                                .field("address", "192.168.42.50")
                                .field("prefix_len", 24u8),
                        ],
                    ),
            ],
        );
        assert_eq!(v, expected);
        // --json may come first too.
        assert_eq!(answer("--json vrrp summary", &s, NOW).unwrap(), text);
    }

    #[test]
    fn interface_json_has_numbers_seconds_and_every_drop_reason() {
        let mut g = spec_interface_group();
        g.version = 3;
        g.advert_interval_cs = 10;
        g.master_advert_interval_cs = 150;
        g.last_transition = Some(Duration::from_millis(7_887_250));
        let s = snap(vec![g], vec![]);
        let v = parse(&answer("vrrp interface lan --json", &s, NOW).unwrap()).unwrap();
        let Some(Json::Array(groups)) = v.get("groups") else {
            panic!("no groups: {v:?}")
        };
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!(g.get("vrid"), Some(&Json::UInt(42)));
        assert_eq!(g.get("version"), Some(&Json::UInt(3)));
        assert_eq!(g.get("state"), Some(&Json::Str("master".into())));
        assert_eq!(g.get("priority"), Some(&Json::UInt(1)));
        assert_eq!(g.get("advert_interval_seconds"), Some(&Json::Float(0.1)));
        assert_eq!(
            g.get("master_advert_interval_seconds"),
            Some(&Json::Float(1.5))
        );
        assert_eq!(
            g.get("last_transition_seconds"),
            Some(&Json::Float(7887.25))
        );
        assert_eq!(
            g.get("master_router"),
            Some(&Json::Str("172.16.42.2".into()))
        );
        assert_eq!(g.get("sync_group"), Some(&Json::Null));
        assert_eq!(g.get("preempt"), Some(&Json::Bool(false)));
        let counters = g.get("counters").unwrap();
        assert_eq!(counters.get("adverts_tx"), Some(&Json::UInt(7887)));
        let drops = counters.get("drops").unwrap();
        let Json::Object(reasons) = drops else {
            panic!()
        };
        let names: Vec<&str> = reasons.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "ttl",
                "checksum",
                "version",
                "length",
                "address_list",
                "auth",
                "interval",
                "owner_conflict"
            ]
        );
        assert_eq!(drops.get("ttl"), Some(&Json::UInt(2)));
        assert_eq!(drops.get("auth"), Some(&Json::UInt(5)));
        assert_eq!(drops.get("checksum"), Some(&Json::UInt(0)));
        // Whole-group detail view is the same document shape.
        let all = parse(&answer("vrrp detail --json", &s, NOW).unwrap()).unwrap();
        assert_eq!(all, v);
        // A v2 1 s interval is the number 1, not a string.
        let s2 = snap(vec![spec_interface_group()], vec![]);
        let v2 = parse(&answer("vrrp detail --json", &s2, NOW).unwrap()).unwrap();
        let Some(Json::Array(g2)) = v2.get("groups") else {
            panic!()
        };
        // (Rust writes 1.0 as `1`, which reads back as an integer.)
        assert_eq!(g2[0].get("advert_interval_seconds"), Some(&Json::UInt(1)));
        assert_eq!(
            g2[0].get("last_transition_seconds"),
            Some(&Json::UInt(7887))
        );
    }

    #[test]
    fn interfaces_json_lists_every_drop_reason() {
        let s = snap(vec![], vec![port("lan", "lan0", Role::Lan)]);
        let v = parse(&answer("interfaces --json", &s, NOW).unwrap()).unwrap();
        let Some(Json::Array(ports)) = v.get("interfaces") else {
            panic!()
        };
        let p = &ports[0];
        assert_eq!(p.get("name"), Some(&Json::Str("lan".into())));
        assert_eq!(p.get("device"), Some(&Json::Str("lan0".into())));
        assert_eq!(p.get("role"), Some(&Json::Str("lan".into())));
        assert_eq!(p.get("up"), Some(&Json::Bool(true)));
        assert_eq!(p.get("mac"), Some(&Json::Str("02:00:5e:10:0a:ff".into())));
        assert_eq!(
            p.get("address"),
            Some(
                &Json::object()
                    .field("address", "172.16.42.2")
                    .field("prefix_len", 24u8)
            )
        );
        assert_eq!(p.get("rx_frames"), Some(&Json::UInt(1200)));
        assert_eq!(p.get("rx_bytes"), Some(&Json::UInt(98_765)));
        assert_eq!(p.get("tx_frames"), Some(&Json::UInt(34)));
        assert_eq!(p.get("tx_bytes"), Some(&Json::UInt(2_176)));
        assert_eq!(p.get("drops_total"), Some(&Json::UInt(7)));
        assert_eq!(
            p.get("drops"),
            Some(
                &Json::object()
                    .field("vrrp_ttl", 3u64)
                    .field("vrrp_checksum", 0u64)
                    .field("no_route", 4u64)
            )
        );
    }

    #[test]
    fn metrics_text_format() {
        let mut g = spec_interface_group();
        g.name = "we\"ird\\name\n".into();
        let s = snap(
            vec![spec_interface_group(), g],
            vec![port("lan", "lan0", Role::Lan)],
        );
        let text = answer_at("metrics", &s, NOW, 1_800_000_000).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..3],
            [
                "# HELP hagw_build_info Always 1; the labels say which hagw this is.",
                "# TYPE hagw_build_info gauge",
                &format!(
                    "hagw_build_info{{version=\"{}\",target=\"{}\"}} 1",
                    env!("CARGO_PKG_VERSION"),
                    env!("HAGW_TARGET")
                ),
            ]
        );
        // Without a wall clock there is no timestamp family.
        assert!(!answer("metrics", &s, NOW).unwrap().contains("timestamp"));
        // Exact lines for the state family.
        let i = lines
            .iter()
            .position(|l| l.starts_with("# HELP hagw_vrrp_state "))
            .unwrap();
        assert_eq!(
            lines[i..i + 4],
            [
                "# HELP hagw_vrrp_state VRRP state of the group: 0 init, 1 backup, 2 master, 3 fault.",
                "# TYPE hagw_vrrp_state gauge",
                "hagw_vrrp_state{group=\"g42\",interface=\"lan\",vrid=\"42\"} 2",
                "hagw_vrrp_state{group=\"we\\\"ird\\\\name\\n\",interface=\"lan\",vrid=\"42\"} 2",
            ]
        );
        for want in [
            "hagw_vrrp_priority{group=\"g42\",interface=\"lan\",vrid=\"42\"} 1",
            "hagw_vrrp_adverts_received_total{group=\"g42\",interface=\"lan\",vrid=\"42\"} 3",
            "hagw_vrrp_adverts_sent_total{group=\"g42\",interface=\"lan\",vrid=\"42\"} 7887",
            "hagw_vrrp_adverts_dropped_total{group=\"g42\",interface=\"lan\",vrid=\"42\",reason=\"ttl\"} 2",
            "hagw_vrrp_adverts_dropped_total{group=\"g42\",interface=\"lan\",vrid=\"42\",reason=\"auth\"} 5",
            "hagw_vrrp_adverts_dropped_total{group=\"g42\",interface=\"lan\",vrid=\"42\",reason=\"interval\"} 0",
            // 7887.25 s ago, at 1_800_000_000: a time, not an age.
            "hagw_vrrp_last_transition_timestamp_seconds{group=\"g42\",interface=\"lan\",vrid=\"42\"} 1799992113",
            "# TYPE hagw_vrrp_adverts_dropped_total counter",
            "hagw_interface_up{interface=\"lan\",device=\"lan0\",role=\"lan\"} 1",
            "hagw_interface_rx_bytes_total{interface=\"lan\",device=\"lan0\",role=\"lan\"} 98765",
            "hagw_interface_drops_total{interface=\"lan\",device=\"lan0\",role=\"lan\",reason=\"vrrp_checksum\"} 0",
            "hagw_interface_drops_total{interface=\"lan\",device=\"lan0\",role=\"lan\",reason=\"no_route\"} 4",
        ] {
            assert!(lines.contains(&want), "missing {want}\n{text}");
        }
        // Structure: every sample follows its own HELP and TYPE, each family
        // is declared once, and every sample line is `name{labels} integer`.
        let mut declared: Vec<&str> = Vec::new();
        let mut current = "";
        for l in &lines {
            if let Some(rest) = l.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                assert!(!declared.contains(&name), "{name} declared twice");
                declared.push(name);
                current = name;
            } else if let Some(rest) = l.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert_eq!(name, current);
                assert!(kind == "gauge" || kind == "counter");
                assert_eq!(kind == "counter", name.ends_with("_total"), "{name}");
            } else {
                let (series, value) = l.rsplit_once(' ').unwrap();
                assert!(
                    series.starts_with(current) && series[current.len()..].starts_with('{'),
                    "{l}"
                );
                assert!(series.ends_with('}'), "{l}");
                value.parse::<u64>().unwrap();
            }
        }
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn metrics_json_mirrors_text() {
        let s = snap(
            vec![spec_interface_group()],
            vec![port("lan", "lan0", Role::Lan)],
        );
        let v = parse(&answer("metrics --json", &s, NOW).unwrap()).unwrap();
        let Some(Json::Array(metrics)) = v.get("metrics") else {
            panic!()
        };
        let state = metrics
            .iter()
            .find(|m| m.get("name") == Some(&Json::Str("hagw_vrrp_state".into())))
            .unwrap();
        assert_eq!(state.get("type"), Some(&Json::Str("gauge".into())));
        assert_eq!(
            state.get("samples"),
            Some(&Json::Array(vec![
                Json::object()
                    .field(
                        "labels",
                        Json::object()
                            .field("group", "g42")
                            .field("interface", "lan")
                            .field("vrid", "42")
                    )
                    .field("value", 2u64)
            ]))
        );
        let text = answer("metrics", &s, NOW).unwrap();
        let samples_in_text = text.lines().filter(|l| !l.starts_with('#')).count();
        let samples_in_json: usize = metrics
            .iter()
            .map(|m| match m.get("samples") {
                Some(Json::Array(a)) => a.len(),
                _ => panic!(),
            })
            .sum();
        assert_eq!(samples_in_text, samples_in_json);
    }

    #[test]
    fn state_numbers_are_distinct() {
        let all = [
            VrrpState::Init,
            VrrpState::Backup,
            VrrpState::Master,
            VrrpState::Fault,
        ];
        let nums: Vec<u64> = all.iter().map(|s| state_number(*s)).collect();
        assert_eq!(nums, [0, 1, 2, 3]);
    }
}
