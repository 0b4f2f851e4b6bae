//! Counters and resync progress of the sync core, shaped for
//! `show conntrack-sync statistics` and `show conntrack-sync status`.
//!
//! Owns: the plain-data types only. Never: formatting (that is `cli`),
//! the internal cache's counters (the lead's conntrack owns those).

use crate::time::{Duration, Instant};

/// Everything the sync core counts. Monotonic except `ext_current`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    // cache external
    pub ext_current: u64,
    pub ext_created: u64,
    /// New sessions refused because the external cache was full.
    pub ext_create_failed: u64,
    /// Entries a bulk resync replaced to make room (each one its end would
    /// have swept: from the bulk's sender, not refreshed by it).
    pub ext_replaced: u64,
    pub ext_updated: u64,
    /// Updates for a session the cache does not hold.
    pub ext_update_failed: u64,
    pub ext_destroyed: u64,
    /// Destroys for a session the cache does not hold.
    pub ext_destroy_failed: u64,
    /// Entries whose carried timeout ran out.
    pub ext_expired: u64,
    /// Entries a bulk resync did not mention (gone on the peer).
    pub ext_swept: u64,
    /// Messages from a late resent frame that a newer frame had overtaken.
    pub ext_stale: u64,

    // traffic
    pub bytes_sent: u64,
    pub pkts_sent: u64,
    pub bytes_recv: u64,
    pub pkts_recv: u64,
    /// Reported by the driver (`count_send_error`) or a frame that did not
    /// fit the caller's buffer.
    pub send_errors: u64,
    pub recv_errors: u64,
    /// Frames dropped before sending: the transmit queue was full or the
    /// frame left the resend ring before it was sent.
    pub send_queue_full: u64,

    // message tracking
    /// Truncated, bad magic, undecodable messages, wrong message count.
    pub malformed: u64,
    /// Frames of a frame version this node does not speak.
    pub bad_version: u64,
    pub bad_crc: u64,
    /// Missing MAC with a key set, wrong MAC, or a MAC with no key here.
    pub auth_failures: u64,
    /// Frames older than the window or of a retired epoch: replays, or
    /// resends that arrived after their hole was given up.
    pub replays: u64,
    /// Frames received twice inside the window (e.g. resent twice).
    pub duplicates: u64,
    /// Our own frames coming back (or another node using our node id).
    pub looped: u64,
    /// Authenticated frames of a peer epoch not yet proven fresh.
    pub unconfirmed: u64,
    /// Frames from more peers than the core tracks.
    pub unknown_peer: u64,
    /// Messages of a kind this version does not know (skipped).
    pub unknown_msgs: u64,
    /// Sequence numbers skipped by the peer (lost frames).
    pub lost: u64,
    /// Lost frames never recovered (fell out of the window).
    pub unrecovered: u64,
    pub nack_sent: u64,
    pub nack_recv: u64,
    /// Frames resent from the ring to answer NACKs.
    pub resent: u64,
    pub resync_requests_sent: u64,
    pub resync_requests_recv: u64,
    /// Bulk resyncs this node finished sending.
    pub bulk_sent: u64,
    /// Bulk resyncs this node finished receiving.
    pub bulk_recv: u64,
    /// Bulks received with frames lost for good (not swept; asked again).
    pub bulk_incomplete: u64,
    /// Sessions sent in bulks.
    pub bulk_sessions_sent: u64,
    pub msgs_sent: u64,
    pub msgs_recv: u64,
}

/// Where this node's request for the peers' sessions stands.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ResyncStatus {
    Idle,
    /// Asked, no bulk has begun yet.
    Requested {
        since: Instant,
    },
    /// A bulk is arriving; `sessions` so far.
    Receiving {
        since: Instant,
        sessions: u32,
    },
    /// The last bulk completed at `at`, with `sessions`, `duration` after
    /// the request (or after its start when nobody asked).
    Done {
        at: Instant,
        sessions: u32,
        duration: Duration,
    },
    /// No complete bulk within `resync_timeout`.
    TimedOut {
        at: Instant,
    },
}

impl ResyncStatus {
    /// Whether a starting router may preempt: the resync finished or gave up.
    pub fn settled(&self) -> bool {
        matches!(
            self,
            ResyncStatus::Idle | ResyncStatus::Done { .. } | ResyncStatus::TimedOut { .. }
        )
    }

    /// Lower-case name for `show conntrack-sync status`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResyncStatus::Idle => "idle",
            ResyncStatus::Requested { .. } => "requested",
            ResyncStatus::Receiving { .. } => "receiving",
            ResyncStatus::Done { .. } => "done",
            ResyncStatus::TimedOut { .. } => "timed out",
        }
    }
}
