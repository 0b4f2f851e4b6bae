//! Rendering of `show` output (text tables in the layouts of SPEC §5, JSON,
//! and Prometheus text metrics) from an engine `Snapshot`.
//!
//! Owns: parsing a request's words and turning a snapshot into what the
//! operator reads. Never: sockets, clocks (the caller passes `now`), or any
//! state of its own. Pure functions.

use super::json::Json;
pub(crate) use super::metrics::Family;
use super::metrics::{metrics_json, metrics_samples, metrics_text};
use super::tracks;
pub(crate) use super::vrrp::group_drops;
use super::vrrp::{
    cidr_json, vrrp_detail, vrrp_detail_json, vrrp_summary, vrrp_summary_json, with_missing,
};
use crate::config::Role;
use crate::engine::{PortStatus, Snapshot};
use crate::time::{Duration, Instant};
use crate::vrrp::GroupStatus;
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
                with_missing(vrrp_detail(&groups, &snap.tracks), &groups, snap)
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
                with_missing(vrrp_detail(&groups, &snap.tracks), &groups, snap)
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
pub fn printable(s: &str) -> String {
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

pub(super) fn up_down(up: bool) -> &'static str {
    if up { "up" } else { "down" }
}

pub(super) fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

pub(super) fn role_str(r: Role) -> &'static str {
    match r {
        Role::Lan => "lan",
        Role::Wan => "wan",
        Role::Sync => "sync",
    }
}

pub(super) fn mac_str(m: [u8; 6]) -> String {
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

fn port_drop_total(p: &PortStatus) -> u64 {
    p.drops.iter().map(|(_, n)| *n).fold(0, u64::saturating_add)
}

fn interfaces(snap: &Snapshot) -> String {
    if snap.ports.is_empty() {
        return "No interfaces configured.\n".to_string();
    }
    let mut out = String::new();
    if let Some(kept) = &snap.reload_kept {
        let _ = writeln!(out, "Reload: {kept}\n");
    }
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
            if p.device_state.missing {
                "missing (no such device)"
            } else {
                up_down(p.up)
            }
        );
        super::device::kernel_lines(&mut out, p);
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
                .field("device_state", super::device::state_json(p))
                .field("host_tap", super::views::host::json(p))
        })
        .collect();
    let out = Json::object().field("interfaces", ports);
    match snap.reload_kept.as_deref() {
        Some(kept) => out.field("reload_kept", kept),
        None => out,
    }
}

#[cfg(test)]
#[path = "show_tests.rs"]
pub(super) mod tests;
