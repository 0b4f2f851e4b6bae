//! The host TAP of each port (SPEC §1, issue 14) in `show interfaces`
//! (text and `--json`) and `show metrics`: the TAP device and the frames
//! and bytes to and from the host. Drops on the host path are port drop
//! reasons (`no_host`, `host_queue_full`, `host_arp_answered`,
//! `host_bad_source`, and the firewall's) and print with the others.
//!
//! Owns: those lines, fields and families. Never: the rest of the
//! interface view (that is `show`).

use super::super::json::Json;
use super::super::show::Family;
use crate::engine::{PortStatus, Snapshot};

/// The `show interfaces` line for a port's TAP ("" for none).
pub fn text(p: &PortStatus) -> String {
    match &p.host_tap {
        Some((dev, c)) => format!(
            "  host TAP {dev}: to host {} frames, {} bytes; from host {} frames, {} bytes\n",
            c.to_host_frames, c.to_host_bytes, c.from_host_frames, c.from_host_bytes
        ),
        None => String::new(),
    }
}

/// The `host_tap` field of a port in `show interfaces --json` (null: none).
pub fn json(p: &PortStatus) -> Json {
    match &p.host_tap {
        Some((dev, c)) => Json::object()
            .field("device", dev.as_str())
            .field("to_host_frames", c.to_host_frames)
            .field("to_host_bytes", c.to_host_bytes)
            .field("from_host_frames", c.from_host_frames)
            .field("from_host_bytes", c.from_host_bytes),
        None => Json::Null,
    }
}

/// `hagw_host_tap_{to,from}_host_{frames,bytes}_total` per interface with
/// a TAP.
pub fn families(snap: &Snapshot) -> Vec<Family> {
    type Pick = fn(&crate::engine::HostCounters) -> u64;
    let defs: [(&'static str, &'static str, Pick); 4] = [
        (
            "hagw_host_tap_to_host_frames_total",
            "Frames hagw wrote into the interface's host TAP.",
            |c| c.to_host_frames,
        ),
        (
            "hagw_host_tap_to_host_bytes_total",
            "Bytes hagw wrote into the interface's host TAP.",
            |c| c.to_host_bytes,
        ),
        (
            "hagw_host_tap_from_host_frames_total",
            "Frames from the host TAP sent on the interface.",
            |c| c.from_host_frames,
        ),
        (
            "hagw_host_tap_from_host_bytes_total",
            "Bytes from the host TAP sent on the interface.",
            |c| c.from_host_bytes,
        ),
    ];
    defs.iter()
        .map(|(name, help, pick)| Family {
            name,
            kind: "counter",
            help,
            samples: snap
                .ports
                .iter()
                .filter_map(|p| {
                    let (dev, c) = p.host_tap.as_ref()?;
                    Some((
                        vec![("interface", p.name.clone()), ("tap", dev.clone())],
                        pick(c),
                    ))
                })
                .collect(),
        })
        .filter(|f| !f.samples.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::HostCounters;

    #[test]
    fn tap_line_json_and_families() {
        let mut snap = super::super::fixtures::snapshot();
        assert_eq!(text(&snap.ports[0]), "");
        assert_eq!(json(&snap.ports[0]), Json::Null);
        assert!(families(&snap).is_empty(), "no TAP, no family");
        let c = HostCounters {
            tap: true,
            to_host_frames: 3,
            to_host_bytes: 300,
            from_host_frames: 2,
            from_host_bytes: 120,
        };
        snap.ports[0].host_tap = Some(("hagw-lan".into(), c));
        assert_eq!(
            text(&snap.ports[0]),
            "  host TAP hagw-lan: to host 3 frames, 300 bytes; from host 2 frames, 120 bytes\n"
        );
        let j = json(&snap.ports[0]);
        assert_eq!(j.get("device"), Some(&Json::Str("hagw-lan".into())));
        assert_eq!(j.get("from_host_bytes"), Some(&Json::UInt(120)));
        let f = families(&snap);
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].name, "hagw_host_tap_to_host_frames_total");
        assert_eq!(f[0].samples[0].1, 3);
        assert_eq!(f[3].samples[0].1, 120);
    }
}
