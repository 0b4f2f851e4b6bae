//! Rendering of health tracks: `show tracks` (table and JSON), the track
//! lines under each group in `show vrrp detail`, and the `hagw_track_*`
//! metric families.
//!
//! Owns: how a `TrackStatus` reads. Never: state, sockets, clocks.

use super::json::Json;
use super::show::{Family, format_duration, table};
use crate::engine::{Snapshot, TrackStatus};
use core::fmt::Write;

fn state(t: &TrackStatus) -> &'static str {
    if t.up { "UP" } else { "DOWN" }
}

fn probe_of(t: &TrackStatus) -> String {
    match (&t.target, &t.interface) {
        (Some(a), Some(i)) => format!("{} {a} via {i}", t.kind),
        (None, Some(i)) => format!("link {i}"),
        _ => "script".to_string(),
    }
}

fn weight_of(t: &TrackStatus) -> String {
    if t.weight == 0 {
        "fault".to_string()
    } else {
        t.weight.to_string()
    }
}

fn counters_of(t: &TrackStatus) -> String {
    let mut s = format!("ok {}, failed {}", t.successes, t.failures);
    if t.probe.sent + t.probe.resolve_sent > 0 {
        let _ = write!(
            s,
            ", sent {}, replies {}, timeouts {}, ignored {}",
            t.probe.sent, t.probe.replies, t.probe.timeouts, t.probe.ignored
        );
    }
    if t.kind == "script" && t.skipped > 0 {
        let _ = write!(s, ", skipped {} (still running)", t.skipped);
    }
    s
}

/// `show tracks`.
pub fn tracks_text(snap: &Snapshot) -> String {
    if snap.tracks.is_empty() {
        return "No health tracks configured.\n".to_string();
    }
    let rows: Vec<Vec<String>> = snap
        .tracks
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                probe_of(t),
                state(t).to_string(),
                weight_of(t),
                format!("{}/{}", t.rise, t.fall),
                t.groups.join(","),
                t.last_change.map_or("never".into(), format_duration),
                counters_of(t),
            ]
        })
        .collect();
    table(
        &[
            "Track",
            "Probe",
            "State",
            "Weight",
            "Rise/Fall",
            "Groups",
            "Changed",
            "Counters",
        ],
        &rows,
    )
}

/// The lines `show vrrp detail` adds under group `group`.
pub fn group_lines(out: &mut String, group: &str, tracks: &[TrackStatus]) {
    for t in tracks
        .iter()
        .filter(|t| t.groups.iter().any(|g| g == group))
    {
        let _ = writeln!(
            out,
            "Track {}: {}, {}, weight {}, {}",
            t.name,
            probe_of(t),
            state(t),
            weight_of(t),
            counters_of(t)
        );
    }
}

pub fn track_json(t: &TrackStatus) -> Json {
    Json::object()
        .field("name", t.name.as_str())
        .field("type", t.kind)
        .field("interface", t.interface.as_deref())
        .field("target", t.target.map(|a| a.to_string()))
        .field("state", if t.up { "up" } else { "down" })
        .field("weight", i64::from(t.weight))
        .field("interval_seconds", Json::Dec(u64::from(t.interval_ms), 3))
        .field("rise", t.rise)
        .field("fall", t.fall)
        .field(
            "groups",
            t.groups
                .iter()
                .map(|g| Json::from(g.as_str()))
                .collect::<Vec<_>>(),
        )
        .field("successes", t.successes)
        .field("failures", t.failures)
        .field("transitions", t.transitions)
        .field("probes_sent", t.probe.sent)
        .field("replies", t.probe.replies)
        .field("timeouts", t.probe.timeouts)
        .field("ignored", t.probe.ignored)
        .field("resolve_sent", t.probe.resolve_sent)
        .field("running", t.running)
        .field("skipped", t.skipped)
        .field(
            "last_change_seconds",
            t.last_change.map(|d| Json::Dec(crate::time::millis(d), 3)),
        )
}

pub fn tracks_json(snap: &Snapshot) -> Json {
    Json::object().field(
        "tracks",
        snap.tracks.iter().map(track_json).collect::<Vec<_>>(),
    )
}

type TrackMetric = (
    &'static str,
    &'static str,
    &'static str,
    fn(&TrackStatus) -> u64,
);

const METRICS: &[TrackMetric] = &[
    (
        "hagw_track_up",
        "gauge",
        "1 if the health track is UP.",
        |t| u64::from(t.up),
    ),
    (
        "hagw_track_weight",
        "gauge",
        "Priority the track takes off its groups while DOWN (0: they go FAULT).",
        |t| u64::from(t.weight.unsigned_abs()),
    ),
    (
        "hagw_track_successes_total",
        "counter",
        "Successful probes or script runs.",
        |t| t.successes,
    ),
    (
        "hagw_track_failures_total",
        "counter",
        "Failed probes or script runs (unanswered, link down, non-zero exit, killed).",
        |t| t.failures,
    ),
    (
        "hagw_track_transitions_total",
        "counter",
        "UP/DOWN changes of the track.",
        |t| t.transitions,
    ),
    (
        "hagw_track_probes_sent_total",
        "counter",
        "ICMP echo or ARP probes sent to the target.",
        |t| t.probe.sent,
    ),
    (
        "hagw_track_replies_total",
        "counter",
        "Matching answers from the target.",
        |t| t.probe.replies,
    ),
    (
        "hagw_track_ignored_total",
        "counter",
        "Answers that did not match (another source, an old sequence number).",
        |t| t.probe.ignored,
    ),
];

/// The `hagw_track_*` families.
pub(crate) fn families(snap: &Snapshot) -> Vec<Family> {
    METRICS
        .iter()
        .map(|&(name, kind, help, value)| Family {
            name,
            kind,
            help,
            samples: snap
                .tracks
                .iter()
                .map(|t| {
                    let labels = vec![("track", t.name.clone()), ("type", t.kind.to_string())];
                    (labels, value(t))
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::show::answer;
    use crate::time::{Duration, Instant};

    fn snap() -> Snapshot {
        let t = TrackStatus {
            name: "upstream".into(),
            kind: "ping",
            interface: Some("wan".into()),
            target: Some("10.0.0.254".parse().unwrap()),
            up: false,
            weight: -150,
            interval_ms: 500,
            rise: 2,
            fall: 3,
            groups: vec!["lan_gw".into()],
            successes: 10,
            failures: 4,
            transitions: 1,
            probe: crate::track::ProbeCounters {
                sent: 14,
                replies: 10,
                timeouts: 4,
                ignored: 1,
                resolve_sent: 1,
            },
            running: false,
            skipped: 0,
            last_change: Some(Duration::from_secs(3)),
        };
        Snapshot {
            reload_kept: None,
            groups: Vec::new(),
            ports: Vec::new(),
            dataplane: None,
            tracks: vec![t],
            sync: None,
            bfd: None,
        }
    }

    #[test]
    fn show_tracks_json_and_metrics() {
        let s = snap();
        let now = Instant::from_secs(100);
        let text = answer("tracks", &s, now).unwrap();
        let mut lines = text.lines();
        assert!(lines.next().unwrap().starts_with("Track"));
        assert!(lines.next().unwrap().starts_with("-----"));
        let row = lines.next().unwrap();
        for part in [
            "upstream",
            "ping 10.0.0.254 via wan",
            "DOWN",
            "-150",
            "2/3",
            "lan_gw",
            "3s",
            "timeouts 4",
        ] {
            assert!(row.contains(part), "{part} missing in {row}");
        }
        let mut out = String::new();
        group_lines(&mut out, "lan_gw", &s.tracks);
        assert_eq!(
            out,
            "Track upstream: ping 10.0.0.254 via wan, DOWN, weight -150, ok 10, failed 4, sent 14, replies 10, timeouts 4, ignored 1\n"
        );
        group_lines(&mut out, "other", &s.tracks);
        assert_eq!(out.lines().count(), 1);
        let j = answer("tracks --json", &s, now).unwrap();
        let parsed = crate::cli::json::check::parse(&j).unwrap();
        let t = &parsed.get("tracks").unwrap();
        assert!(j.contains("\"state\": \"down\""), "{j}");
        assert!(j.contains("\"weight\": -150"), "{j}");
        assert!(matches!(t, Json::Array(a) if a.len() == 1));
        let m = answer("metrics", &s, now).unwrap();
        assert!(
            m.contains("hagw_track_up{track=\"upstream\",type=\"ping\"} 0\n"),
            "{m}"
        );
        assert!(
            m.contains("hagw_track_weight{track=\"upstream\",type=\"ping\"} 150\n"),
            "{m}"
        );
        assert!(
            m.contains("hagw_track_replies_total{track=\"upstream\",type=\"ping\"} 10\n"),
            "{m}"
        );
    }
}
