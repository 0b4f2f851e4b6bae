//! `show conntrack` (the live sessions: original tuple, NAT mapping,
//! state, remaining timeout, packets/bytes each way, synced or not) and
//! `show conntrack statistics` (table size, every table counter, the
//! fragment table), as text and JSON.
//!
//! Owns: those two layouts and the list of conntrack counters (shared with
//! the metrics). Never: reads anything but the snapshot.

use super::super::json::Json;
use super::super::show::{format_duration, table};
use super::{endpoint, endpoint_json, id_json, proto_name};
use crate::conntrack::Stats;
use crate::engine::{DataplaneStatus, SessionStatus};
use core::fmt::Write;

/// Where SNAT put the source (the reply's destination) and where DNAT sent
/// the destination (the reply's source), as text: `src 10.0.0.1:40000`,
/// `dst 192.168.1.10:22`, both, or `-`.
fn nat_text(s: &SessionStatus) -> String {
    let p = s.orig.proto;
    let mut parts = Vec::new();
    if s.snat {
        parts.push(format!("src {}", endpoint(p, s.reply.dst, s.reply.dport)));
    }
    if s.dnat {
        parts.push(format!("dst {}", endpoint(p, s.reply.src, s.reply.sport)));
    }
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

pub fn sessions(dp: &DataplaneStatus) -> String {
    if dp.sessions.is_empty() {
        return format!(
            "No sessions ({} of {} entries in use).\n",
            dp.conntrack.entries, dp.conntrack.capacity
        );
    }
    let rows: Vec<Vec<String>> = dp
        .sessions
        .iter()
        .map(|s| {
            let p = s.orig.proto;
            vec![
                s.id.to_string(),
                format!("{} [{p}]", proto_name(p)),
                endpoint(p, s.orig.src, s.orig.sport),
                endpoint(p, s.orig.dst, s.orig.dport),
                nat_text(s),
                s.state.to_string(),
                format_duration(s.remaining),
                format!("{}/{}", s.packets[0], s.packets[1]),
                format!("{}/{}", s.bytes[0], s.bytes[1]),
                if s.from_sync { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "Id",
            "Protocol",
            "Source",
            "Destination",
            "NAT",
            "State",
            "Timeout",
            "Packets o/r",
            "Bytes o/r",
            "Synced",
        ],
        &rows,
    );
    let synced = dp.sessions.iter().filter(|s| s.from_sync).count();
    let _ = writeln!(
        out,
        "{} sessions ({synced} from sync), {} of {} entries in use",
        dp.sessions.len(),
        dp.conntrack.entries,
        dp.conntrack.capacity
    );
    out
}

fn session_json(s: &SessionStatus) -> Json {
    let p = s.orig.proto;
    let snat = s.snat.then(|| endpoint_json(p, s.reply.dst, s.reply.dport));
    let dnat = s.dnat.then(|| endpoint_json(p, s.reply.src, s.reply.sport));
    let dir = |o: u64, r: u64| Json::object().field("original", o).field("reply", r);
    Json::object()
        .field("id", id_json(s.id))
        .field("protocol", proto_name(p))
        .field("protocol_number", p)
        .field(
            "original",
            Json::object()
                .field("source", endpoint_json(p, s.orig.src, s.orig.sport))
                .field("destination", endpoint_json(p, s.orig.dst, s.orig.dport)),
        )
        .field(
            "reply",
            Json::object()
                .field("source", endpoint_json(p, s.reply.src, s.reply.sport))
                .field("destination", endpoint_json(p, s.reply.dst, s.reply.dport)),
        )
        .field("snat", snat)
        .field("dnat", dnat)
        .field("state", s.state)
        .field("timeout_seconds", s.remaining.as_secs())
        .field("packets", dir(s.packets[0], s.packets[1]))
        .field("bytes", dir(s.bytes[0], s.bytes[1]))
        .field("from_sync", s.from_sync)
        .field("exported", s.reported)
}

pub fn sessions_json(dp: &DataplaneStatus) -> Json {
    Json::object()
        .field("entries", dp.conntrack.entries as u64)
        .field("capacity", dp.conntrack.capacity as u64)
        .field(
            "sessions",
            dp.sessions
                .iter()
                .map(|s| session_json(s).inline())
                .collect::<Vec<_>>(),
        )
}

/// Every table counter by name: events (sessions made and ended) first,
/// then refusals and invalid packets. `true` marks a drop reason.
pub fn counters(s: &Stats) -> [(&'static str, u64, bool); 19] {
    [
        ("inserted", s.inserted, false),
        ("synced", s.synced, false),
        ("expired", s.expired, false),
        ("removed", s.removed, false),
        ("evicted", s.evicted, false),
        ("reopened", s.reopened, false),
        ("sync_unordered", s.sync_unordered, false),
        ("tcp_ignored", s.tcp_ignored, false),
        ("tcp_liberal", s.tcp_liberal, false),
        ("drop_full", s.drop_full, true),
        ("drop_exists", s.drop_exists, true),
        ("drop_not_new", s.drop_not_new, true),
        ("sync_conflict", s.sync_conflict, true),
        ("sync_invalid", s.sync_invalid, true),
        ("invalid_tcp_flags", s.invalid_tcp_flags, true),
        ("invalid_tcp_state", s.invalid_tcp_state, true),
        ("invalid_tcp_window", s.invalid_tcp_window, true),
        ("invalid_proto", s.invalid_proto, true),
        ("changes_lost", s.changes_lost, true),
    ]
}

/// Per mille of the table in use, as `12.5%`.
fn percent(used: usize, cap: usize) -> String {
    // u64 (not u128: its Display alone is 1 kB on mips); usize counts
    // times 1000 fit.
    let pm = (used as u64 * 1000).checked_div(cap as u64).unwrap_or(0);
    format!("{}.{}%", pm / 10, pm % 10)
}

pub fn statistics(dp: &DataplaneStatus) -> String {
    let c = &dp.conntrack;
    let mut out = format!(
        "Entries: {} of {} ({}), {} bytes per entry ({} bytes in all)\n",
        c.entries,
        c.capacity,
        percent(c.entries, c.capacity),
        c.bytes_per_entry,
        c.bytes_per_entry.saturating_mul(c.capacity)
    );
    let _ = write!(
        out,
        "Fragments: {} of {} entries; first fragments recorded {}, later fragments followed {}, evicted {}\n\n",
        c.frag_entries, c.frag_capacity, c.frag.recorded, c.frag.followed, c.frag.evicted
    );
    let rows: Vec<(&str, u64)> = counters(&c.stats).iter().map(|&(k, v, _)| (k, v)).collect();
    out.push_str(&super::counter_table(&rows));
    out
}

pub fn statistics_json(dp: &DataplaneStatus) -> Json {
    let c = &dp.conntrack;
    let rows: Vec<(&str, u64)> = counters(&c.stats).iter().map(|&(k, v, _)| (k, v)).collect();
    Json::object()
        .field("entries", c.entries as u64)
        .field("capacity", c.capacity as u64)
        .field("bytes_per_entry", c.bytes_per_entry as u64)
        .field("counters", super::counters_json(&rows))
        .field(
            "fragments",
            Json::object()
                .field("entries", c.frag_entries as u64)
                .field("capacity", c.frag_capacity as u64)
                .field("recorded", c.frag.recorded)
                .field("followed", c.frag.followed)
                .field("evicted", c.frag.evicted),
        )
}

#[cfg(test)]
mod tests {
    use super::super::super::json::check::parse;
    use super::super::fixtures::{NOW, snapshot};
    use crate::cli::show::answer;

    #[test]
    fn sessions_exact_layout() {
        let s = snapshot();
        let got = answer("conntrack", &s, NOW).unwrap();
        let expected = "\
Id                   Protocol  Source               Destination        NAT                    State        Timeout   Packets o/r  Bytes o/r  Synced
-------------------  --------  -------------------  -----------------  ---------------------  -----------  --------  -----------  ---------  ------
281474976710657      tcp [6]   192.168.10.20:40000  93.184.216.34:443  src 203.0.113.5:40000  ESTABLISHED  1h59m59s  12/10        1500/9000  no
562949953421313      udp [17]  192.168.10.21:5353   9.9.9.9:53         src 203.0.113.5:61000  UNREPLIED    25s       1/0          80/0       yes
9223372036854775807  icmp [1]  203.0.113.9          203.0.113.5        dst 192.168.10.30      REPLIED      30s       2/2          168/168    no
3 sessions (1 from sync), 3 of 1024 entries in use
";
        assert_eq!(got, expected);
    }

    #[test]
    fn sessions_json_has_string_ids_tuples_nat_and_counters() {
        let s = snapshot();
        let v = parse(&answer("conntrack --json", &s, NOW).unwrap()).unwrap();
        let list = match v.get("sessions") {
            Some(crate::cli::json::Json::Array(a)) => a.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(list.len(), 3);
        let big = &list[2];
        // 2^63 - 1 survives as a string.
        assert_eq!(big.get("id"), Some(&"9223372036854775807".into()));
        assert_eq!(big.get("protocol"), Some(&"icmp".into()));
        assert_eq!(
            big.get("dnat").unwrap().get("address"),
            Some(&"192.168.10.30".into())
        );
        assert_eq!(big.get("snat"), Some(&crate::cli::json::Json::Null));
        let first = &list[0];
        assert_eq!(
            first.get("snat").unwrap().get("port"),
            Some(&crate::cli::json::Json::UInt(40000))
        );
        assert_eq!(
            first.get("timeout_seconds"),
            Some(&crate::cli::json::Json::UInt(7199))
        );
        assert_eq!(
            first.get("bytes").unwrap().get("reply"),
            Some(&crate::cli::json::Json::UInt(9000))
        );
        assert_eq!(list[1].get("from_sync"), Some(&true.into()));
    }

    #[test]
    fn statistics_lists_every_counter_and_the_fragment_table() {
        let s = snapshot();
        let got = answer("conntrack statistics", &s, NOW).unwrap();
        let head = "\
Entries: 3 of 1024 (0.2%), 112 bytes per entry (114688 bytes in all)
Fragments: 1 of 64 entries; first fragments recorded 4, later fragments followed 9, evicted 0

Counter             Value
------------------  -----
inserted            70
synced              5
expired             60
removed             7
evicted             2
reopened            0
sync_unordered      0
tcp_ignored         3
tcp_liberal         0
drop_full           11
drop_exists         0
drop_not_new        4
sync_conflict       1
sync_invalid        0
invalid_tcp_flags   0
invalid_tcp_state   6
invalid_tcp_window  0
invalid_proto       0
changes_lost        0
";
        assert_eq!(got, head);
        let v = parse(&answer("conntrack statistics --json", &s, NOW).unwrap()).unwrap();
        assert_eq!(v.get("capacity"), Some(&crate::cli::json::Json::UInt(1024)));
        assert_eq!(
            v.get("counters").unwrap().get("drop_full"),
            Some(&crate::cli::json::Json::UInt(11))
        );
        assert_eq!(
            v.get("fragments").unwrap().get("followed"),
            Some(&crate::cli::json::Json::UInt(9))
        );
    }

    #[test]
    fn no_sessions_is_one_line() {
        let mut s = snapshot();
        s.dataplane.as_mut().unwrap().sessions.clear();
        assert_eq!(
            answer("conntrack", &s, NOW).unwrap(),
            "No sessions (3 of 1024 entries in use).\n"
        );
    }
}
