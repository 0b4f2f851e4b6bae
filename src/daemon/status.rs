//! What `hagw show` reads: the engine's snapshot completed with the
//! driver's per-port facts. Owns: filling in link state, MAC, wire counters
//! and socket errors, and a port list from the config before the engine
//! runs. Never: formats anything (the CLI does).

use super::faults;
use super::link::Port;
use crate::config::Config;
use crate::engine::{Engine, PortStatus, Snapshot};
use crate::time::Instant;

/// The engine's snapshot with the driver's per-port facts (link, MAC, wire
/// counters, socket errors) filled in; a port list from the config when the
/// engine has not started yet (or lists no ports).
pub(super) fn snapshot(
    engine: Option<&Engine>,
    config: &Config,
    ports: &[Port],
    now: Instant,
    sessions: bool,
) -> Snapshot {
    let mut snap = match engine {
        Some(e) => e.snapshot_with(now, sessions),
        None => Snapshot {
            reload_kept: None,
            groups: Vec::new(),
            ports: Vec::new(),
            dataplane: None,
            sync: None,
            bfd: None,
            tracks: Vec::new(),
        },
    };
    if snap.ports.len() != config.interfaces.len() {
        snap.ports = config
            .interfaces
            .iter()
            .map(|i| PortStatus::new(&i.name, &i.device, i.role, i.address))
            .collect();
    }
    for (st, p) in snap.ports.iter_mut().zip(ports.iter()) {
        st.up = p.up;
        st.device_state = faults::device_state(p);
        if st.mac == [0; 6] {
            st.mac = p.mac;
        }
        if p.dataplane() {
            // The driver's counts are what crossed the socket.
            st.rx_frames = p.counters.rx_frames;
            st.rx_bytes = p.counters.rx_bytes;
            st.tx_frames = p.counters.tx_frames;
            st.tx_bytes = p.counters.tx_bytes;
            st.drops.push(("socket_rx_error", p.counters.rx_errors));
            st.drops.push(("socket_tx_error", p.counters.tx_errors));
            st.drops.push(("rx_oversize", p.counters.rx_oversize));
            st.drops.push(("rx_truncated", p.counters.rx_truncated));
            st.drops.push(("socket_rx_overrun", p.counters.rx_overrun));
        }
    }
    snap
}
