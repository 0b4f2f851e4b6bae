//! The real driver: AF_PACKET sockets on the dataplane interfaces, the
//! control socket, a signal fd, one poll(2) loop on CLOCK_MONOTONIC.
//! Everything protocol-shaped is the engine's; this module only moves bytes.
//!
//! Loop turn: link re-read if due, engine timers if due, TxQueue flushed to
//! the sockets, engine events run notify scripts; then poll(fds, timeout)
//! where timeout is the earliest of the engine's `poll_timeout`, the next
//! link poll, control-client and script deadlines; then signals, netlink link
//! notifications (immediate link re-read), frames (`rx::drain`: the port's
//! TPACKET_V3 ring block by block, at most `rx::RX_BLOCK_BUDGET` blocks per
//! socket per wake, forwarded frames sent per output port with sendmmsg(2)
//! before each block goes back) and control clients.
//!
//! The engine is built after the first look at the devices; a missing
//! lan/wan device only holds the groups on it in FAULT (its MAC is set when
//! it appears: netlink RTM_NEWLINK, or the retry every second), the others
//! run (`faults`). Never: parses frames, decides VRRP state, or blocks on
//! anything but poll(2).

pub mod bfdsock;
pub mod clock;
pub mod control;
mod faults;
pub mod link;
pub mod netlink;
pub mod notify;
pub mod packet;
mod peers;
pub mod ring;
pub mod rx;
pub mod signals;
pub mod spawn;
mod status;
pub mod syncsock;
pub mod sys;
pub mod tap;

use crate::config::{self, Config, LogLevel};
use crate::engine::{Engine, Event, Snapshot, TxQueue};
use crate::time::Instant;
use bfdsock::BfdSocket;
use control::{ControlServer, Want};
use link::{LINK_POLL, LINK_POLL_WITH_NETLINK, Port};
use log::{LevelFilter, debug, error, info, warn};
use netlink::LinkMonitor;
use notify::Notifier;
use signals::Signals;
use status::snapshot;
use syncsock::SyncSocket;
use sys::IoctlSocket;

/// Datagrams read from one sync/BFD socket per wake-up.
pub const RX_BUDGET: usize = 64;
/// Capacity of the engine's transmit queue.
pub const TX_CAPACITY: usize = 256;
/// Longest poll(2) sleep, so link polling and retries keep running.
const MAX_SLEEP_MS: i32 = 1000;

fn level_filter(l: LogLevel) -> LevelFilter {
    match l {
        LogLevel::Error => LevelFilter::Error,
        LogLevel::Warn => LevelFilter::Warn,
        LogLevel::Info => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Debug,
        LogLevel::Trace => LevelFilter::Trace,
    }
}

/// Run the daemon with the config at `path`; returns the exit code.
pub fn run(path: &str) -> i32 {
    let config = match config::load(path) {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("hagw: {path}: not started ({} errors)", errors.len());
            return 1;
        }
    };
    crate::cli::logger::init(level_filter(config.globals.log_level));
    match Daemon::new(path, config) {
        Ok(mut d) => d.run(),
        Err(msg) => {
            error!("{msg}");
            1
        }
    }
}

/// Give the daemon its configured niceness; a refusal (no CAP_SYS_NICE,
/// RLIMIT_NICE) is logged and the daemon runs on.
fn apply_nice(nice: i8) {
    match sys::set_nice(nice) {
        Ok(()) => info!("scheduling niceness {nice}"),
        Err(e) => warn!("could not set niceness {nice}: {e}; running at the inherited one"),
    }
}

enum Slot {
    Signal,
    Listener,
    Netlink,
    Conn,
    Port(usize),
    Sync,
    Bfd,
    Tap(usize),
}

struct Daemon {
    path: String,
    config: Config,
    engine: Option<Engine>,
    ports: Vec<Port>,
    ioctl: IoctlSocket,
    signals: Signals,
    netlink: Option<LinkMonitor>,
    control: ControlServer,
    notifier: Notifier,
    tx: TxQueue,
    /// The forward path's transmit batches (sendmmsg(2)) and scratch.
    io: rx::Io,
    next_link_poll: Instant,
    link_poll: crate::time::Duration,
    fds: Vec<libc::pollfd>,
    slots: Vec<Slot>,
    tx_overflow_seen: u64,
    /// The conntrack-sync socket, once the sync interface has its address.
    sync: Option<SyncSocket>,
    /// BFD to the peer on the sync link, when configured.
    bfd: Option<BfdSocket>,
    sync_buf: Vec<u8>,
    /// Last sync-socket error logged (logged once until it changes).
    sync_error: Option<String>,
    /// When the engine call now running started (a failover's commit is
    /// logged with how long its call took).
    call_started: Instant,
    /// What the last SIGHUP kept instead of a changed interface list, and
    /// why (shown by `show interfaces`); cleared by a reload that applies.
    reload_kept: Option<String>,
    /// The host TAP of each port (None: off, the sync port, or not created).
    taps: Vec<Option<tap::Tap>>,
    /// Netlink socket for the TAPs' addresses.
    addr_nl: Option<tap::AddrNetlink>,
    /// `Engine::addrs_generation` the TAP addresses were last synced to.
    tap_gen: Option<u64>,
}

impl Daemon {
    fn new(path: &str, config: Config) -> Result<Daemon, String> {
        apply_nice(config.globals.nice);
        let signals = Signals::new().map_err(|e| format!("signalfd: {e}"))?;
        let ioctl = IoctlSocket::new().map_err(|e| format!("ioctl socket: {e}"))?;
        let control = ControlServer::bind(&config.globals.control_socket)
            .map_err(|e| format!("control socket {}: {e}", config.globals.control_socket))?;
        info!(
            "hagw {} starting: {} interfaces, {} VRRP groups, control socket {}",
            env!("CARGO_PKG_VERSION"),
            config.interfaces.len(),
            config.vrrp_groups.len(),
            config.globals.control_socket
        );
        let netlink = match LinkMonitor::open() {
            Ok(m) => Some(m),
            Err(e) => {
                warn!(
                    "netlink link monitor unavailable ({e}); polling link state every {} ms",
                    LINK_POLL.as_millis() as u64
                );
                None
            }
        };
        let link_poll = if netlink.is_some() {
            LINK_POLL_WITH_NETLINK
        } else {
            LINK_POLL
        };
        let ports: Vec<Port> = config.interfaces.iter().map(Port::new).collect();
        let nports = ports.len();
        let nfds = ports.len() + 3 + control::MAX_CONNS;
        Ok(Daemon {
            path: path.to_string(),
            config,
            engine: None,
            ports,
            ioctl,
            signals,
            netlink,
            control,
            notifier: Notifier::new(),
            tx: TxQueue::with_capacity(TX_CAPACITY),
            io: rx::Io::new(nports),
            next_link_poll: Instant::ZERO,
            link_poll,
            fds: Vec::with_capacity(nfds),
            slots: Vec::with_capacity(nfds + 2),
            tx_overflow_seen: 0,
            sync: None,
            bfd: None,
            sync_buf: vec![0; syncsock::MAX_DATAGRAM],
            sync_error: None,
            call_started: Instant::ZERO,
            reload_kept: None,
            taps: Vec::new(),
            addr_nl: None,
            tap_gen: None,
        })
    }

    fn run(&mut self) -> i32 {
        loop {
            let now = clock::now();
            if now >= self.next_link_poll {
                self.poll_links(now);
            }
            if let Some(engine) = &mut self.engine {
                if engine.poll_timeout().is_some_and(|t| t <= now) {
                    self.call_started = now;
                    engine.handle_timeout(now, &mut self.tx);
                }
                engine.end_of_turn(now, &mut self.tx);
            }
            self.flush(now);
            self.reap(now);

            let timeout = self.timeout_ms(clock::now());
            self.build_pollfds();
            // SAFETY: fds is a valid array of pollfd of the given length.
            let rc = unsafe {
                libc::poll(
                    self.fds.as_mut_ptr(),
                    self.fds.len() as libc::nfds_t,
                    timeout,
                )
            };
            if rc < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    error!("poll: {e}");
                    return 1;
                }
                continue;
            }
            let now = clock::now();
            let mut accept = false;
            let mut conns = false;
            for i in 0..self.fds.len() {
                let revents = self.fds.get(i).map_or(0, |f| f.revents);
                if revents == 0 {
                    continue;
                }
                match self.slots.get(i) {
                    Some(Slot::Signal) => {
                        let p = self.signals.drain();
                        if p.child {
                            self.reap(now);
                        }
                        if p.terminate {
                            return self.stop(now);
                        }
                        if p.reload {
                            self.reload(now);
                        }
                    }
                    Some(Slot::Listener) => accept = true,
                    Some(Slot::Netlink) => {
                        if let Some(m) = &mut self.netlink {
                            let seen = m.drain();
                            if seen.links > 0 || seen.lost {
                                // Re-read every port now (flags are the truth).
                                self.poll_links(now);
                            }
                            if seen.addrs > 0 || seen.lost {
                                self.addresses_changed();
                            }
                        }
                    }
                    Some(Slot::Conn) => conns = true,
                    Some(Slot::Port(p)) => {
                        let p = *p;
                        self.receive(now, p, revents);
                    }
                    Some(Slot::Sync) => self.receive_sync(now),
                    Some(Slot::Bfd) => self.receive_bfd(now),
                    Some(Slot::Tap(p)) => {
                        let p = *p;
                        self.receive_tap(now, p);
                    }
                    None => {}
                }
            }
            if accept {
                self.control.accept(now);
            }
            if accept || conns || self.control.next_deadline().is_some_and(|d| d <= now) {
                self.serve_control(now);
            }
        }
    }

    fn timeout_ms(&self, now: Instant) -> i32 {
        let mut deadline = self.next_link_poll;
        let engine_t = self.engine.as_ref().and_then(|e| e.poll_timeout());
        for d in [
            engine_t,
            self.control.next_deadline(),
            self.notifier.next_deadline(),
        ]
        .into_iter()
        .flatten()
        {
            deadline = deadline.min(d);
        }
        clock::poll_ms(now, deadline, MAX_SLEEP_MS)
    }

    fn build_pollfds(&mut self) {
        self.fds.clear();
        self.slots.clear();
        let push = |fds: &mut Vec<libc::pollfd>, slots: &mut Vec<Slot>, fd, events, slot| {
            fds.push(libc::pollfd {
                fd,
                events,
                revents: 0,
            });
            slots.push(slot);
        };
        push(
            &mut self.fds,
            &mut self.slots,
            self.signals.raw_fd(),
            libc::POLLIN,
            Slot::Signal,
        );
        if let Some(m) = &self.netlink {
            push(
                &mut self.fds,
                &mut self.slots,
                m.raw_fd(),
                libc::POLLIN,
                Slot::Netlink,
            );
        }
        if self.control.can_accept() {
            push(
                &mut self.fds,
                &mut self.slots,
                self.control.listener_fd(),
                libc::POLLIN,
                Slot::Listener,
            );
        }
        for (fd, want) in self.control.conn_fds() {
            let ev = match want {
                Want::Read => libc::POLLIN,
                Want::Write => libc::POLLOUT,
            };
            push(&mut self.fds, &mut self.slots, fd, ev, Slot::Conn);
        }
        if let (Some(s), true) = (&self.sync, self.engine.is_some()) {
            push(
                &mut self.fds,
                &mut self.slots,
                s.raw_fd(),
                libc::POLLIN,
                Slot::Sync,
            );
        }
        if let (Some(s), true) = (&self.bfd, self.engine.is_some()) {
            push(
                &mut self.fds,
                &mut self.slots,
                s.raw_fd(),
                libc::POLLIN,
                Slot::Bfd,
            );
        }
        if self.engine.is_some() {
            for (i, t) in self.taps.iter().enumerate() {
                if let Some(t) = t {
                    push(
                        &mut self.fds,
                        &mut self.slots,
                        t.raw_fd(),
                        libc::POLLIN,
                        Slot::Tap(i),
                    );
                }
            }
            for (i, p) in self.ports.iter().enumerate() {
                if let Some(s) = &p.sock {
                    push(
                        &mut self.fds,
                        &mut self.slots,
                        s.raw_fd(),
                        libc::POLLIN,
                        Slot::Port(i),
                    );
                }
            }
        }
    }

    /// Drain port `p`'s receive ring into the engine (`rx::drain`).
    fn receive(&mut self, now: Instant, p: usize, revents: libc::c_short) {
        if revents & (libc::POLLERR | libc::POLLNVAL) != 0 && revents & libc::POLLIN == 0 {
            if let Some(port) = self.ports.get_mut(p) {
                port.counters.rx_errors += 1;
            }
        }
        self.call_started = now;
        let Some(engine) = &mut self.engine else {
            return;
        };
        let seen = &mut self.tx_overflow_seen;
        rx::drain(
            engine,
            &mut self.ports,
            &mut self.io,
            p,
            now,
            &mut self.tx,
            |tx, ports| flush_tx(tx, ports, seen),
        );
        self.flush(now);
    }

    fn poll_links(&mut self, now: Instant) {
        self.next_link_poll = now + self.link_poll;
        for i in 0..self.ports.len() {
            let Some(port) = self.ports.get_mut(i) else {
                continue;
            };
            port.read_kernel_drops();
            let (was_missing, old_mac) = (port.missing, port.mac);
            let usable = port.refresh(now, &self.ioctl, &self.config);
            self.device_changed(i, was_missing, old_mac);
            let Some(port) = self.ports.get_mut(i) else {
                continue;
            };
            if let Ok(mtu) = self.ioctl.mtu(&port.device)
                && mtu != port.mtu
            {
                if port.mtu != 0 {
                    info!(
                        "{} ({}): MTU {} -> {}",
                        port.name, port.device, port.mtu, mtu
                    );
                }
                port.mtu = mtu;
                if let Some(engine) = &mut self.engine {
                    engine.set_mtu(i, mtu);
                }
            }
            if usable != port.up {
                port.up = usable;
                if usable {
                    port.check_kernel_ownership();
                }
                info!(
                    "{} ({}): link {}",
                    port.name,
                    port.device,
                    if usable { "up" } else { "down" }
                );
                if let Some(engine) = &mut self.engine {
                    engine.set_link(now, i, usable, &mut self.tx);
                }
                if let Some(Some(t)) = self.taps.get(i) {
                    t.set_carrier(usable);
                }
            }
        }
        if self.engine.is_none() {
            self.try_start_engine(now);
        }
        if self.engine.as_ref().is_some_and(|e| e.has_sync()) {
            self.open_sync();
        }
        if self.engine.as_ref().is_some_and(|e| e.has_bfd()) {
            self.open_bfd();
        }
    }

    /// Build the engine after the first look at the devices: a missing
    /// one has MAC zero and link down (its groups start in FAULT) until it
    /// appears.
    fn try_start_engine(&mut self, now: Instant) {
        let macs: Vec<[u8; 6]> = self.ports.iter().map(|p| p.mac).collect();
        match Engine::with_keys(&self.config, &macs, now, sys::random_keys()) {
            Ok(mut engine) => {
                for (i, p) in self.ports.iter().enumerate() {
                    engine.set_link(now, i, p.up, &mut self.tx);
                    if p.mtu != 0 {
                        engine.set_mtu(i, p.mtu);
                    }
                }
                engine.handle_timeout(now, &mut self.tx);
                let conflicts: u32 = self.ports.iter().map(|p| p.kernel_conflicts).sum();
                if conflicts > 0 {
                    warn!(
                        "engine started with {conflicts} kernel setting(s) conflicting with hagw owning its lan/wan devices (see above)"
                    );
                } else {
                    info!("engine started");
                }
                self.engine = Some(engine);
                self.log_missing_at_start();
                self.open_taps();
                self.flush(now);
            }
            Err(e) => {
                error!("cannot start the engine: {}", e.0);
                // Retry on the next link poll (e.g. after a SIGHUP fixes it).
            }
        }
    }

    /// Send queued frames and sync datagrams, then act on engine events.
    fn flush(&mut self, now: Instant) {
        flush_tx(&mut self.tx, &mut self.ports, &mut self.tx_overflow_seen);
        self.flush_host();
        let Some(engine) = &mut self.engine else {
            return;
        };
        while let Some(n) = engine.poll_sync_transmit(&mut self.sync_buf) {
            let Some(sock) = &self.sync else {
                continue; // not open yet: the peer's NACK or resync recovers
            };
            if let Err(e) = sock.send(&self.sync_buf[..n]) {
                engine.count_sync_error(true);
                debug!("sync {}: sendto: {e}", sock.device);
            }
        }
        let mut buf = [0u8; 64];
        while let Some(n) = engine.poll_bfd_transmit(now, &mut buf) {
            if let Some(sock) = &self.bfd
                && let Err(e) = sock.send(&buf[..n])
            {
                debug!("bfd {}: sendto: {e}", sock.device);
            }
        }
        while let Some(ev) = engine.poll_event() {
            match ev {
                Event::Failover { committed, failed } => {
                    info!(
                        "failover: {committed} sessions committed ({failed} failed), virtual addresses taken, adverts sent; {} us in the engine",
                        clock::now().saturating_since(self.call_started).as_micros() as u64
                    );
                }
                Event::Transition { group, state } => {
                    let Some(g) = self.config.vrrp_groups.get(group) else {
                        warn!("event for unknown group index {group}");
                        continue;
                    };
                    // The engine logs the transition (with its reason) at info.
                    debug!(
                        "vrrp: group {} (vrid {} on {}) -> {}",
                        g.name,
                        g.vrid,
                        g.interface,
                        state.as_str()
                    );
                    let t = notify::Transition {
                        group: &g.name,
                        state: state.as_str(),
                        vrid: g.vrid,
                        interface: &g.interface,
                        priority: g.priority,
                    };
                    match &g.notify {
                        Some(script) if g.notify_keepalived => {
                            self.notifier.notify_keepalived(now, script, &t)
                        }
                        Some(script) => self.notifier.notify(now, script, &g.name, t.state),
                        None => {}
                    }
                    self.notifier.hotplug(now, &t);
                }
                Event::RunScript { track } => {
                    if let Some(t) = self.config.tracks.get(track) {
                        let timeout = crate::time::Duration::from_millis(u64::from(t.timeout_ms));
                        let command = t.command.as_deref().unwrap_or("");
                        self.notifier.check(now, &t.name, command, timeout);
                    }
                }
            }
        }
    }

    /// Reap finished scripts; health-check results go to the engine (by
    /// track name: a reload may have moved the track).
    fn reap(&mut self, now: Instant) {
        self.notifier.poll(now);
        let mut any = false;
        while let Some((name, ok)) = self.notifier.take_result() {
            if let (Some(engine), Some(k)) = (&mut self.engine, self.config.track_index(&name)) {
                engine.track_result(now, k, ok, &mut self.tx);
                any = true;
            }
        }
        if any {
            self.flush(now);
        }
    }

    fn serve_control(&mut self, now: Instant) {
        for p in &mut self.ports {
            p.read_kernel_drops();
        }
        // Take the snapshot lazily: only when a complete request arrived.
        let mut cached: Option<Snapshot> = None;
        let (engine, config, ports) = (&self.engine, &self.config, &self.ports);
        let kept = &self.reload_kept;
        let notes = |s: Snapshot| faults::with_notes(s, kept);
        self.control.serve(now, |line| {
            let want = crate::cli::show::needs_sessions(line);
            if want
                && cached
                    .as_ref()
                    .is_some_and(|s| s.dataplane.as_ref().is_some_and(|d| d.sessions.is_empty()))
            {
                cached = None;
            }
            let snap = cached
                .get_or_insert_with(|| notes(snapshot(engine.as_ref(), config, ports, now, want)));
            crate::cli::control::respond(line, snap, now)
        });
    }

    fn reload(&mut self, now: Instant) {
        info!("SIGHUP: reloading {}", self.path);
        let new = match config::load(&self.path) {
            Ok(c) => c,
            Err(errors) => {
                for e in &errors {
                    error!("{e}");
                }
                error!(
                    "reload failed ({} errors); keeping the running configuration",
                    errors.len()
                );
                return;
            }
        };
        if self.refuse_interface_change(&new) {
            return;
        }
        if let Some(engine) = &mut self.engine {
            if let Err(e) = engine.reload(&new, now, &mut self.tx) {
                error!(
                    "reload rejected by the engine: {}; keeping the running configuration",
                    e.0
                );
                return;
            }
        }
        if new.globals.control_socket != self.config.globals.control_socket {
            match ControlServer::bind(&new.globals.control_socket) {
                Ok(c) => {
                    info!("control socket moved to {}", new.globals.control_socket);
                    self.control = c;
                }
                Err(e) => error!(
                    "control socket {}: {e}; keeping {}",
                    new.globals.control_socket, self.control.path
                ),
            }
        }
        log::set_max_level(level_filter(new.globals.log_level));
        if new.globals.nice != self.config.globals.nice {
            apply_nice(new.globals.nice);
        }
        for p in &mut self.ports {
            p.sync_vmacs(&new);
        }
        self.config = new;
        self.reload_kept = None;
        info!("reload: configuration applied");
        self.flush(now);
    }

    fn stop(&mut self, now: Instant) -> i32 {
        info!("stopping: sending priority-0 adverts for master groups");
        if let Some(engine) = &mut self.engine {
            engine.shutdown(now, &mut self.tx);
        }
        self.flush(now);
        self.close_taps();
        self.notifier.poll(now);
        for p in &mut self.ports {
            if p.dataplane() {
                p.read_kernel_drops();
                let c = &p.counters;
                info!(
                    "{} ({}): received {} frames in {} ring blocks (largest {}, {} super-frames segmented); kernel dropped {}; sent {} frames in {} sendmmsg calls",
                    p.name,
                    p.device,
                    c.rx_frames,
                    c.rx_batches,
                    c.rx_batch_max,
                    c.rx_segmented,
                    c.rx_overrun,
                    c.tx_frames,
                    c.tx_batches
                );
            }
        }
        info!("stopped");
        0
    }
}

fn count_send(port: &mut Port, len: usize, res: std::io::Result<()>) {
    match res {
        Ok(()) => {
            port.counters.tx_frames += 1;
            port.counters.tx_bytes += len as u64;
        }
        Err(e) => {
            port.counters.tx_errors += 1;
            debug!("{}: send: {e}", port.name);
        }
    }
}

/// Send every queued frame on its port's socket, counting per port.
fn flush_tx(tx: &mut TxQueue, ports: &mut [Port], overflow_seen: &mut u64) {
    for (p, frame) in tx.iter() {
        let Some(port) = ports.get_mut(p) else {
            continue;
        };
        let res = match &port.sock {
            Some(s) => s.send(frame),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "no socket",
            )),
        };
        count_send(port, frame.len(), res);
    }
    tx.clear();
    if tx.overflow != *overflow_seen {
        warn!(
            "engine transmit queue overflowed ({} frames dropped so far)",
            tx.overflow
        );
        *overflow_seen = tx.overflow;
    }
}
