//! The sending half of `Sync`: exports into the open batch, sealing frames
//! into the resend ring and transmit queue, keepalives, resync requests,
//! NACKs of our own, answering peers' NACKs and the bounded bulk walk.

use super::frame::{self, Header};
use super::msg::{self, Keepalive, Message};
use super::peer::NackPoll;
use super::{BULK_PER_STEP, BulkTx, ECHO_MARKS, SessionRecord, Sync, window};

/// Most hole ranges one window can have (every other number missing).
const MAX_RANGES: usize = window::WIDTH as usize / 2;

impl Sync {
    /// Export a new session (appended to the current batch).
    pub fn export_new(&mut self, r: &SessionRecord) {
        self.push_msg(&Message::New(*r));
    }

    /// Export a state change or a timeout refresh of session `id`.
    pub fn export_update(&mut self, id: u64, state: u8, timeout_secs: u32) {
        self.push_msg(&Message::Update {
            id,
            state,
            timeout_secs,
        });
    }

    /// Export the end of session `id`.
    pub fn export_destroy(&mut self, id: u64) {
        self.push_msg(&Message::Destroy { id });
    }

    /// Once per loop turn: send the NACKs that are due and close the batch
    /// into a frame for `poll_transmit`.
    pub fn flush(&mut self, now: crate::time::Instant) {
        self.last_now = now;
        if self.keepalive_soon && now >= self.last_early_keepalive + super::EARLY_KEEPALIVE {
            self.keepalive_soon = false;
            self.last_early_keepalive = now;
            self.send_keepalive();
        }
        self.poll_nacks(now);
        self.close_batch();
    }

    /// The next datagram to send, copied into `buf`; `None` when nothing is
    /// queued. Never blocks; frames that could not be kept are counted.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        while let Some(seq) = self.txq.pop() {
            let Some(f) = self.ring.get(seq) else {
                self.stats.send_queue_full += 1;
                continue;
            };
            let n = f.len();
            let Some(dst) = buf.get_mut(..n) else {
                self.stats.send_errors += 1;
                continue;
            };
            dst.copy_from_slice(f);
            self.stats.pkts_sent += 1;
            self.stats.bytes_sent += n as u64;
            return Some(n);
        }
        None
    }

    /// Whether a bulk resync is in progress (call `bulk_step` this turn).
    pub fn wants_bulk(&self) -> bool {
        self.bulk.is_some()
    }

    /// Whether a bulk step is due at `now` (paced by `BULK_STEP_INTERVAL`).
    pub fn bulk_due(&self, now: crate::time::Instant) -> bool {
        self.bulk.is_some() && now >= self.next_bulk_at
    }

    /// Send the next part of a bulk resync: up to `BULK_PER_STEP` sessions
    /// taken from `next`, which returns the session at or after the cursor
    /// and moves the cursor past it (`None`: the table is done). The cursor
    /// starts at 0 and means what the caller wants (e.g. a slot index).
    /// Returns the sessions sent.
    pub fn bulk_step(
        &mut self,
        now: crate::time::Instant,
        mut next: impl FnMut(&mut u64) -> Option<SessionRecord>,
    ) -> usize {
        self.last_now = now;
        let Some(mut b) = self.bulk else {
            return 0;
        };
        self.next_bulk_at = now + super::BULK_STEP_INTERVAL;
        if !b.begun {
            self.push_msg(&Message::BulkBegin);
            b.begun = true;
            // The batch holding BulkBegin is sealed with this number.
            self.last_bulk_begin = Some(self.next_seq);
        }
        let mut n = 0;
        while n < BULK_PER_STEP {
            match next(&mut b.cursor) {
                Some(r) => {
                    self.export_new(&r);
                    b.sent = b.sent.saturating_add(1);
                    n += 1;
                }
                None => {
                    self.push_msg(&Message::BulkEnd { count: b.sent });
                    self.stats.bulk_sent += 1;
                    self.stats.bulk_sessions_sent += u64::from(b.sent);
                    log::info!("conntrack-sync: bulk resync sent, {} sessions", b.sent);
                    self.bulk = None;
                    if std::mem::take(&mut self.bulk_again) {
                        self.start_bulk();
                    }
                    return n;
                }
            }
        }
        self.bulk = Some(b);
        n
    }

    /// Send the whole table to the peers unasked, as a new master does
    /// right after its commit (conntrackd's `-B` in primary-backup.sh):
    /// the backup's external cache then mirrors this node's table,
    /// including the sessions just committed from it (those are never
    /// reported as New). Without it a demoted master that asked for its
    /// resync before the peer took over keeps an empty external cache.
    pub fn push_bulk(&mut self) {
        self.start_bulk();
    }

    /// Start a bulk resync, or queue one more if one is already under way.
    pub(super) fn start_bulk(&mut self) {
        match &self.bulk {
            Some(b) if b.begun => self.bulk_again = true,
            Some(_) => {}
            None => {
                self.bulk = Some(BulkTx {
                    cursor: 0,
                    sent: 0,
                    begun: false,
                })
            }
        }
    }

    /// Append a message to the batch, sealing the batch first if it is full.
    pub(super) fn push_msg(&mut self, m: &Message) {
        for _ in 0..2 {
            if self.batch_count == u16::MAX {
                self.close_batch();
            }
            let end = self.payload_end();
            let written = self
                .batch
                .get_mut(self.batch_len..end)
                .ok_or(msg::MsgError::NoRoom)
                .and_then(|room| msg::encode(m, self.node, room));
            match written {
                Ok(n) => {
                    self.batch_len += n;
                    self.batch_count += 1;
                    return;
                }
                Err(_) if self.batch_count > 0 => self.close_batch(),
                Err(_) => break,
            }
        }
        // Larger than an empty frame: cannot happen with MAX_BODY < 256.
        self.stats.send_errors += 1;
    }

    fn payload_end(&self) -> usize {
        let mac = if self.key.is_some() {
            super::auth::MAC_LEN
        } else {
            0
        };
        self.max_frame - frame::CRC_LEN - mac
    }

    /// Seal the batch (if it holds messages) into the ring and the queue.
    fn close_batch(&mut self) {
        if self.batch_count == 0 {
            return;
        }
        let seq = self.next_seq;
        let h = Header {
            node: self.node,
            count: self.batch_count,
            boot: self.boot,
            seq,
        };
        match frame::seal(&mut self.batch, self.batch_len, &h, self.key.as_ref()) {
            Some(n) => {
                let f = self.batch.get(..n).unwrap_or_default();
                if !self.ring.push(seq, f) || !self.txq.push(seq) {
                    self.stats.send_queue_full += 1;
                }
            }
            None => self.stats.send_errors += 1,
        }
        self.stats.msgs_sent += u64::from(self.batch_count);
        self.batch_len = frame::HEADER_LEN;
        self.batch_count = 0;
        if self.next_seq == u32::MAX {
            self.next_epoch();
        } else {
            self.next_seq += 1;
        }
    }

    /// Sequence numbers ran out: continue as boot + 1 (peers see a restart)
    /// from 0, so the ring and the transmit queue stay consecutive.
    fn next_epoch(&mut self) {
        self.boot = self.boot.wrapping_add(1);
        self.next_seq = 0;
        self.echo_marks = [0; ECHO_MARKS];
        self.last_bulk_begin = None;
        log::info!(
            "conntrack-sync: sequence numbers exhausted, new epoch {:#010x}",
            self.boot
        );
    }

    pub(super) fn send_keepalive(&mut self) {
        let mut k = Keepalive {
            last_seq: self.next_seq,
            vrrp: self.vrrp.clone(),
            ..Keepalive::default()
        };
        for p in &self.peers {
            if let Some(e) = p.echo() {
                let _ = k.echoes.push(e);
            }
        }
        self.push_msg(&Message::Keepalive(k));
    }

    pub(super) fn send_resync_request(&mut self, now: crate::time::Instant) {
        self.push_msg(&Message::ResyncRequest { to: self.resync_to });
        self.stats.resync_requests_sent += 1;
        self.next_resync_retry = now + super::RESYNC_RETRY;
    }

    /// NACK every peer's open holes that are due; give up on holes NACKed
    /// too often and ask that peer for a bulk instead.
    fn poll_nacks(&mut self, now: crate::time::Instant) {
        for i in 0..self.peers.len() {
            let mut ranges: heapless::Vec<(u32, u32), MAX_RANGES> = heapless::Vec::new();
            let Some(p) = self.peers.get_mut(i) else {
                break;
            };
            let (node, boot) = (p.node, p.epoch.map(|e| e.boot).unwrap_or(0));
            let holes = p.window().map(|w| w.hole_count()).unwrap_or(0);
            match p.poll_nack(now, |a, b| {
                let _ = ranges.push((a, b));
            }) {
                NackPoll::Idle => {}
                NackPoll::Sent => {
                    for (first, last) in ranges {
                        self.push_msg(&Message::Nack {
                            to: node,
                            boot,
                            first,
                            last,
                        });
                        self.stats.nack_sent += 1;
                    }
                }
                NackPoll::GiveUp => {
                    if !matches!(p.bulk_rx, super::peer::BulkRx::Idle) {
                        p.bulk_lossy = true;
                    }
                    self.stats.unrecovered += u64::from(holes);
                    log::debug!(
                        "conntrack-sync: {holes} frames of peer {node} not recovered by NACK, asking for a resync"
                    );
                    self.request_resync(now, node);
                }
            }
        }
    }

    /// A peer asked for frames `first..=last` of our epoch `boot`: resend
    /// what the ring holds, answer the rest with a bulk resync.
    pub(super) fn answer_nack(&mut self, boot: u32, first: u32, last: u32) {
        if boot != self.boot {
            return;
        }
        let last = last.min(self.next_seq.saturating_sub(1));
        let first = first.max(last.saturating_sub(window::WIDTH - 1)).max(1);
        let mut gone_upto = None;
        for seq in first..=last {
            if self.ring.get(seq).is_some() {
                if !self.txq.contains(seq) {
                    if self.txq.push(seq) {
                        self.stats.resent += 1;
                    } else {
                        self.stats.send_queue_full += 1;
                    }
                }
            } else {
                gone_upto = Some(seq);
            }
        }
        if let Some(seq) = gone_upto {
            // A bulk that began after the lost frame already covers it.
            if self.last_bulk_begin.is_none_or(|b| b <= seq) {
                log::debug!(
                    "conntrack-sync: NACK for frame {seq} no longer in the ring, bulk resync"
                );
                self.start_bulk();
            }
        }
    }
}
