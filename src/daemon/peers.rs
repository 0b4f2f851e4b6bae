//! The daemon's two kernel sockets towards the peer router: conntrack sync
//! (`syncsock`) and BFD (`bfdsock`). Owns: opening them once their device
//! and address exist (retried with the link poll) and handing what they
//! read to the engine, a bounded number of datagrams per wake-up. Never:
//! decodes sync or BFD messages (the engine does).

use super::{BfdSocket, Daemon, RX_BUDGET, SyncSocket};
use crate::time::Instant;
use log::{debug, info, warn};

impl Daemon {
    /// Hand up to `RX_BUDGET` sync datagrams to the engine.
    pub(super) fn receive_sync(&mut self, now: Instant) {
        let (Some(engine), Some(sock)) = (&mut self.engine, &self.sync) else {
            return;
        };
        self.call_started = now;
        for _ in 0..RX_BUDGET {
            match sock.recv(&mut self.sync_buf) {
                Ok(Some((n, from))) => {
                    engine.handle_sync(now, &self.sync_buf[..n]);
                    if let Some(b) = self.bfd.as_mut() {
                        b.learn_peer(from);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    engine.count_sync_error(false);
                    debug!("sync {}: recvfrom: {e}", sock.device);
                    break;
                }
            }
        }
    }

    /// Hand up to `RX_BUDGET` BFD packets (with their IP TTL) to the engine.
    pub(super) fn receive_bfd(&mut self, now: Instant) {
        let (Some(engine), Some(sock)) = (&mut self.engine, &mut self.bfd) else {
            return;
        };
        self.call_started = now;
        let mut buf = [0u8; 128];
        for _ in 0..RX_BUDGET {
            match sock.recv(&mut buf) {
                Ok(Some((n, from, ttl))) => {
                    sock.learn_peer(from);
                    engine.handle_bfd(now, &buf[..n.min(buf.len())], ttl, &mut self.tx);
                }
                Ok(None) => break,
                Err(e) => {
                    debug!("bfd {}: recvmsg: {e}", sock.device);
                    break;
                }
            }
        }
        self.flush(now);
    }

    /// Open the BFD sockets when configured and not open yet.
    pub(super) fn open_bfd(&mut self) {
        if self.bfd.is_some() {
            return;
        }
        match BfdSocket::open(&self.config) {
            None => {}
            Some(Ok(s)) => {
                info!(
                    "bfd: on {} ({}), peer {}",
                    s.device,
                    s.local,
                    s.peer
                        .map_or("to be learned".to_string(), |p| p.to_string())
                );
                self.bfd = Some(s);
            }
            Some(Err(e)) => {
                let msg = format!("bfd: {e}");
                if self.sync_error.as_deref() != Some(msg.as_str()) {
                    warn!("bfd: cannot open its sockets ({e}); retrying every link poll");
                    self.sync_error = Some(msg);
                }
            }
        }
    }

    /// Open the sync socket if conntrack sync is configured and it is not
    /// open yet (the interface may get its address after we start).
    pub(super) fn open_sync(&mut self) {
        if self.sync.is_some() {
            return;
        }
        match SyncSocket::open(&self.config) {
            None => {}
            Some(Ok(s)) => {
                info!("conntrack-sync: socket open on {} ({})", s.device, s.local);
                self.sync_error = None;
                self.sync = Some(s);
            }
            Some(Err(e)) => {
                let msg = e.to_string();
                if self.sync_error.as_deref() != Some(msg.as_str()) {
                    warn!(
                        "conntrack-sync: cannot open the sync socket ({msg}); retrying every link poll"
                    );
                    self.sync_error = Some(msg);
                }
            }
        }
    }
}
