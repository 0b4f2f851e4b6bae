//! The schema: which section types exist and which options each takes
//! (one value or a list), plus the conntrack timeout option names.
//!
//! Owns: names only. Never: values, ranges or cross-checks (`values` and
//! the section checks own those).

/// Whether an option takes one value or a list.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(super) enum Arity {
    One,
    /// `list key 'v'` entries, or `option key 'v1 v2'` (space-separated).
    Many,
}
use Arity::{Many, One};

pub(super) const TIMEOUTS: [&str; 12] = [
    "tcp_syn_sent_timeout",
    "tcp_syn_recv_timeout",
    "tcp_established_timeout",
    "tcp_fin_wait_timeout",
    "tcp_close_wait_timeout",
    "tcp_last_ack_timeout",
    "tcp_time_wait_timeout",
    "tcp_close_timeout",
    "udp_timeout",
    "udp_stream_timeout",
    "icmp_timeout",
    "generic_timeout",
];

/// The schema: section type => its options.
pub(super) fn schema(kind: &str) -> Option<&'static [(&'static str, Arity)]> {
    Some(match kind {
        "globals" => &[
            ("enabled", One),
            ("node_id", One),
            ("log_level", One),
            ("control_socket", One),
            ("nice", One),
        ],
        "interface" => &[
            ("device", One),
            ("role", One),
            ("address", One),
            ("host_tap", One),
            ("host_tap_name", One),
        ],
        "route" => &[("target", One), ("gateway", One), ("interface", One)],
        "vrrp_group" => &[
            ("interface", One),
            ("vrid", One),
            ("virtual_address", Many),
            ("priority", One),
            ("preempt", One),
            ("preempt_delay", One),
            ("advertise_interval", One),
            ("version", One),
            ("rfc3768_compatibility", One),
            ("auth_type", One),
            ("auth_password", One),
            ("sync_group", One),
            ("track_interface", Many),
            super::track::GROUP_OPTION,
            ("notify", One),
            ("notify_args", One),
            ("unicast_peer", Many),
            ("garp_repeat", One),
            ("garp_refresh", One),
            ("v3_checksum", One),
        ],
        "conntrack" => &[
            ("max_entries", One),
            ("external_max_entries", One),
            ("tcp_syn_sent_timeout", One),
            ("tcp_syn_recv_timeout", One),
            ("tcp_established_timeout", One),
            ("tcp_fin_wait_timeout", One),
            ("tcp_close_wait_timeout", One),
            ("tcp_last_ack_timeout", One),
            ("tcp_time_wait_timeout", One),
            ("tcp_close_timeout", One),
            ("udp_timeout", One),
            ("udp_stream_timeout", One),
            ("icmp_timeout", One),
            ("generic_timeout", One),
        ],
        "firewall_ruleset" => &[("default_action", One)],
        "firewall_rule" => &[
            ("ruleset", One),
            ("description", One),
            ("protocol", One),
            ("source", One),
            ("destination", One),
            ("source_port", One),
            ("destination_port", One),
            ("state", One),
            ("action", One),
        ],
        "firewall_attach" => &[("interface", One), ("direction", One), ("ruleset", One)],
        "nat_source" => &[
            ("rule", One),
            ("description", One),
            ("outbound_interface", One),
            ("protocol", One),
            ("source", One),
            ("destination", One),
            ("translation_address", One),
            ("translation_port", One),
        ],
        "nat_destination" => &[
            ("rule", One),
            ("description", One),
            ("inbound_interface", One),
            ("protocol", One),
            ("destination_address", One),
            ("destination_port", One),
            ("translation_address", One),
            ("translation_port", One),
        ],
        "conntrack_sync" => &[
            ("interface", One),
            ("sync_group", One),
            ("mcast_group", One),
            ("port", One),
            ("peer", One),
            ("auth_key", One),
            ("resync_timeout", One),
            ("bfd", One),
            ("bfd_min_tx", One),
            ("bfd_min_rx", One),
            ("bfd_multiplier", One),
            ("fast_takeover", One),
        ],
        "track" => super::track::OPTIONS,
        _ => return None,
    })
}

pub(super) const SECTION_TYPES: [&str; 12] = [
    "globals",
    "interface",
    "route",
    "vrrp_group",
    "conntrack",
    "firewall_ruleset",
    "firewall_rule",
    "firewall_attach",
    "nat_source",
    "nat_destination",
    "conntrack_sync",
    "track",
];
