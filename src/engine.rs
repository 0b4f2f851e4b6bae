//! The sans-IO core that ties config, wire codecs and protocol state
//! machines together. Drivers (the daemon, the simulator) call
//! `handle_frame` / `handle_timeout` / `set_link` with the current time and
//! send whatever lands in the `TxQueue`; `poll_timeout` says when to call
//! again. Owns no socket, no clock, no file.

use crate::config::{Config, Ipv4Cidr, Role};
use crate::time::Instant;
use crate::vrrp::{GroupStatus, VrrpState};

/// Index of a port: the position of its interface in `Config::interfaces`.
pub type PortId = usize;

/// Largest Ethernet frame the core reads or writes (no FCS).
pub const MAX_FRAME: usize = 1518;

/// One frame waiting to be sent.
pub struct TxFrame {
    pub port: PortId,
    pub len: usize,
    pub buf: [u8; MAX_FRAME],
}

/// A bounded queue of outgoing frames, allocated once; the driver drains it.
pub struct TxQueue {
    frames: Vec<TxFrame>,
    len: usize,
    /// Frames dropped because the queue was full.
    pub overflow: u64,
}

impl TxQueue {
    pub fn with_capacity(capacity: usize) -> TxQueue {
        let mut frames = Vec::with_capacity(capacity);
        for _ in 0..capacity {
            frames.push(TxFrame {
                port: 0,
                len: 0,
                buf: [0; MAX_FRAME],
            });
        }
        TxQueue {
            frames,
            len: 0,
            overflow: 0,
        }
    }

    /// Queue a frame for `port`: `write` fills the buffer and returns the
    /// frame length (0 cancels). Returns false (and counts) when full.
    pub fn push(&mut self, port: PortId, write: impl FnOnce(&mut [u8]) -> usize) -> bool {
        let Some(slot) = self.frames.get_mut(self.len) else {
            self.overflow += 1;
            return false;
        };
        let n = write(&mut slot.buf[..]).min(MAX_FRAME);
        if n == 0 {
            return false;
        }
        slot.port = port;
        slot.len = n;
        self.len += 1;
        true
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The queued frames in order, as (port, bytes).
    pub fn iter(&self) -> impl Iterator<Item = (PortId, &[u8])> {
        self.frames[..self.len]
            .iter()
            .map(|f| (f.port, &f.buf[..f.len]))
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// Something the driver must act on outside the core (e.g. run a notify script).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Group `group` (index into `Config::vrrp_groups`) entered `state`.
    Transition { group: usize, state: VrrpState },
}

/// A read-only view of one port, for `show interfaces`.
#[derive(Clone, Debug, PartialEq)]
pub struct PortStatus {
    pub name: String,
    pub device: String,
    pub role: Role,
    pub mac: [u8; 6],
    pub address: Ipv4Cidr,
    pub up: bool,
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    /// Drops by reason, e.g. ("vrrp_ttl", 3); every reason listed, zero or not.
    pub drops: Vec<(&'static str, u64)>,
}

/// Everything `hagw show` can display, taken at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub groups: Vec<GroupStatus>,
    pub ports: Vec<PortStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineError(pub String);

/// The core. See the module docs for how drivers use it.
pub struct Engine {
    config: Config,
    macs: Vec<[u8; 6]>,
}

impl Engine {
    /// Build from a validated config; `macs[i]` is the MAC of `config.interfaces[i]`.
    /// All groups start in INIT; the first `handle_timeout` starts them.
    pub fn new(config: &Config, macs: &[[u8; 6]], _now: Instant) -> Result<Engine, EngineError> {
        if macs.len() != config.interfaces.len() {
            return Err(EngineError(format!(
                "{} MACs for {} interfaces",
                macs.len(),
                config.interfaces.len()
            )));
        }
        Ok(Engine {
            config: config.clone(),
            macs: macs.to_vec(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A frame arrived on `port`.
    pub fn handle_frame(&mut self, _now: Instant, _port: PortId, _frame: &[u8], _tx: &mut TxQueue) {
    }

    /// Time passed; run every timer due at or before `now`.
    pub fn handle_timeout(&mut self, _now: Instant, _tx: &mut TxQueue) {}

    /// When `handle_timeout` must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Link state of `port` changed (tracked interfaces, FAULT).
    pub fn set_link(&mut self, _now: Instant, _port: PortId, _up: bool, _tx: &mut TxQueue) {}

    /// Orderly stop: masters send priority-0 adverts.
    pub fn shutdown(&mut self, _now: Instant, _tx: &mut TxQueue) {}

    /// Apply a new validated config (SIGHUP); unchanged groups are not disturbed.
    pub fn reload(
        &mut self,
        config: &Config,
        _now: Instant,
        _tx: &mut TxQueue,
    ) -> Result<(), EngineError> {
        self.config = config.clone();
        Ok(())
    }

    /// Next event for the driver, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        None
    }

    pub fn snapshot(&self, _now: Instant) -> Snapshot {
        let _ = &self.macs;
        Snapshot {
            groups: Vec::new(),
            ports: Vec::new(),
        }
    }
}
