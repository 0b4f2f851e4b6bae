//! One BFD session (RFC 5880 asynchronous mode) as a sans-IO state machine.
//!
//! Owns: the state variables of RFC 5880 §6.8.1, the transmit, Final and
//! detection deadlines, slow start (§6.8.3), poll sequences for parameter
//! changes, jitter (§6.8.7, from `crate::rng` seeded by the caller),
//! the event queue and the counters. Never: sockets, clocks (every call
//! takes `now`), addresses, or anything VRRP.
//!
//! Driving it (quinn-proto style): hand every received datagram to
//! `handle_packet` with its IP TTL; call `handle_timeout` when
//! `poll_timeout` passes; after either, drain `poll_transmit` (send each
//! packet to UDP port 3784) and `poll_event`. After a wake-up, read every
//! pending datagram before `handle_timeout`: a driver that woke late would
//! otherwise expire a session whose packets wait in the socket.
//!
//! Timer rules while Up (§6.8.3): a bigger Desired Min TX is only used
//! for sending once the peer's Final confirms the Poll; a smaller Required
//! Min RX is only used for the Detection Time once confirmed. The other
//! directions apply at once.

use super::packet::{BfdPacket, BfdRepr};
use super::{
    Counters, Diag, Drop, EVENT_CAPACITY, Event, SLOW_START, SessionConfig, Snapshot, State, TTL,
};
use crate::rng::XorShift64Star;
use crate::time::{Duration, Instant};

/// Microseconds of `d`, saturated to the 32-bit wire field.
fn micros(d: Duration) -> u32 {
    u32::try_from(crate::time::micros(d)).unwrap_or(u32::MAX)
}

fn duration(us: u32) -> Duration {
    Duration::from_micros(u64::from(us))
}

/// One BFD session with one peer.
#[derive(Clone, Debug)]
pub struct Session {
    cfg: SessionConfig,
    state: State,
    remote_state: State,
    local_discr: u32,
    remote_discr: u32,
    local_diag: Diag,
    remote_diag: Diag,
    /// What we advertise (µs): Desired Min TX (slow start applied),
    /// Required Min RX, Detect Mult.
    desired_min_tx: u32,
    required_min_rx: u32,
    detect_mult: u8,
    /// The values the transmit interval and the Detection Time use; they
    /// differ from the advertised ones while a Poll awaits its Final.
    tx_in_use: u32,
    rx_in_use: u32,
    /// The peer's last advertised values (µs); RemoteMinRxInterval starts at 1.
    remote_min_tx: u32,
    remote_min_rx: u32,
    /// 0 until the peer is heard.
    remote_detect_mult: u8,
    poll_active: bool,
    final_due: Option<Instant>,
    next_tx: Option<Instant>,
    detect_at: Option<Instant>,
    last_rx: Option<Instant>,
    last_change: Option<Instant>,
    rng: XorShift64Star,
    events: heapless::Deque<Event, EVENT_CAPACITY>,
    counters: Counters,
}

impl Session {
    /// A session in Down. `local_discr` is our discriminator, unique per
    /// session on this system (0 is not allowed on the wire and becomes 1);
    /// `seed` seeds the jitter. The first packet is due at once.
    pub fn new(cfg: SessionConfig, local_discr: u32, seed: u64) -> Session {
        let cfg = sanitize(cfg);
        let desired = micros(cfg.desired_min_tx).max(micros(SLOW_START));
        let rx = micros(cfg.required_min_rx);
        Session {
            cfg,
            state: State::Down,
            remote_state: State::Down,
            local_discr: local_discr.max(1),
            remote_discr: 0,
            local_diag: Diag::None,
            remote_diag: Diag::None,
            desired_min_tx: desired,
            required_min_rx: rx,
            detect_mult: cfg.detect_mult,
            tx_in_use: desired,
            rx_in_use: rx,
            remote_min_tx: 0,
            remote_min_rx: 1,
            remote_detect_mult: 0,
            poll_active: false,
            final_due: None,
            next_tx: Some(Instant::ZERO),
            detect_at: None,
            last_rx: None,
            last_change: None,
            rng: XorShift64Star::new(seed),
            events: heapless::Deque::new(),
            counters: Counters::default(),
        }
    }

    pub fn state(&self) -> State {
        self.state
    }
    pub fn local_discriminator(&self) -> u32 {
        self.local_discr
    }
    pub fn remote_discriminator(&self) -> u32 {
        self.remote_discr
    }
    pub fn config(&self) -> SessionConfig {
        self.cfg
    }
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Negotiated transmit interval (µs, before jitter); None while the
    /// peer asks for no periodic packets (Required Min RX 0).
    fn tx_interval(&self) -> Option<u32> {
        (self.remote_min_rx != 0).then(|| self.tx_in_use.max(self.remote_min_rx))
    }

    /// Negotiated receive interval (µs); None until the peer is heard.
    fn rx_interval(&self) -> Option<u32> {
        (self.remote_detect_mult != 0).then(|| self.rx_in_use.max(self.remote_min_tx))
    }

    /// Detection Time: the peer's Detect Mult × the receive interval.
    pub fn detect_time(&self) -> Option<Duration> {
        self.rx_interval()
            .map(|iv| duration(iv) * u32::from(self.remote_detect_mult))
    }

    /// `interval_us` less 0-25 % jitter, or 10-25 % when our Detect Mult is
    /// 1 (RFC 5880 §6.8.7).
    fn jittered(&mut self, interval_us: u32) -> Duration {
        let iv = u64::from(interval_us);
        let r = self.rng.next_u64() >> 40; // 24 random bits
        let (lo, hi) = if self.detect_mult == 1 {
            (10, 25)
        } else {
            (0, 25)
        };
        let cut = iv * lo / 100 + iv * (hi - lo) * r / (100 << 24);
        Duration::from_micros(iv.saturating_sub(cut))
    }

    /// The transmit interval may have changed from `old`: a shorter one
    /// pulls the next packet in, none stops periodic sending.
    fn interval_changed(&mut self, now: Instant, old: Option<u32>) {
        let new = self.tx_interval();
        if new == old {
            return;
        }
        match new {
            None => self.next_tx = None,
            Some(iv) => {
                let at = now + self.jittered(iv);
                if self.next_tx.is_none_or(|t| t > at) {
                    self.next_tx = Some(at);
                }
            }
        }
    }

    fn rearm_detect(&mut self) {
        if let (Some(last), Some(dt)) = (self.last_rx, self.detect_time()) {
            self.detect_at = Some(last + dt);
        }
    }

    /// Bring the advertised timers in line with the config and the state
    /// (slow start while not Up); while Up a change starts a Poll Sequence.
    fn apply_params(&mut self, now: Instant) {
        let configured = micros(self.cfg.desired_min_tx);
        let tx = if self.state == State::Up {
            configured
        } else {
            configured.max(micros(SLOW_START))
        };
        let rx = micros(self.cfg.required_min_rx);
        let mult = self.cfg.detect_mult;
        let changed =
            tx != self.desired_min_tx || rx != self.required_min_rx || mult != self.detect_mult;
        let old_iv = self.tx_interval();
        if self.state != State::Up {
            self.poll_active = false;
            self.tx_in_use = tx;
            self.rx_in_use = rx;
        } else if changed {
            if !self.poll_active {
                self.counters.polls += 1;
            }
            self.poll_active = true;
            self.tx_in_use = self.tx_in_use.min(tx);
            self.rx_in_use = self.rx_in_use.max(rx);
        }
        self.desired_min_tx = tx;
        self.required_min_rx = rx;
        self.detect_mult = mult;
        self.interval_changed(now, old_iv);
        self.rearm_detect();
    }

    fn set_state(&mut self, now: Instant, to: State, diag: Diag) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        self.local_diag = diag;
        self.last_change = Some(now);
        self.counters.state_changes += 1;
        if to == State::Up {
            self.counters.up += 1;
        } else if from == State::Up {
            self.counters.down += 1;
        }
        if self.events.is_full() {
            let _ = self.events.pop_front();
            self.counters.events_lost += 1;
        }
        let _ = self.events.push_back(Event {
            from,
            to,
            diag,
            remote_diag: self.remote_diag,
            at: now,
        });
        self.apply_params(now);
        log::info!(
            "bfd {:#x}: {} -> {} ({}; peer {:#x} {} {}); detect time {}",
            self.local_discr,
            from.as_str(),
            to.as_str(),
            diag.as_str(),
            self.remote_discr,
            self.remote_state.as_str(),
            self.remote_diag.as_str(),
            self.detect_time()
                .map_or_else(|| "none".into(), |d| format!("{} ms", d.as_millis() as u64))
        );
    }

    /// A datagram from UDP port 3784 arrived with IP TTL `ttl`. A bad one
    /// is counted by reason and changes nothing.
    pub fn handle_packet(&mut self, now: Instant, bytes: &[u8], ttl: u8) -> Result<(), Drop> {
        self.counters.rx += 1;
        match self.check(bytes, ttl) {
            Ok(repr) => {
                self.accept(now, &repr);
                Ok(())
            }
            Err(why) => {
                if let Some(c) = self.counters.drops.get_mut(why as usize) {
                    *c += 1;
                }
                Err(why)
            }
        }
    }

    /// RFC 5881 §5 (TTL), the codec's checks, then those that need the
    /// session (RFC 5880 §6.8.6): Your Discriminator, the A bit, AdminDown.
    fn check(&self, bytes: &[u8], ttl: u8) -> Result<BfdRepr, Drop> {
        if ttl != TTL {
            return Err(Drop::Ttl);
        }
        let repr = BfdRepr::parse(&BfdPacket::new_checked(bytes)?)?;
        if repr.your_discriminator != 0 && repr.your_discriminator != self.local_discr {
            return Err(Drop::UnknownDiscriminator);
        }
        if repr.auth {
            return Err(Drop::Auth);
        }
        if self.state == State::AdminDown {
            return Err(Drop::AdminDown);
        }
        Ok(repr)
    }

    /// RFC 5880 §6.8.6 after the checks.
    fn accept(&mut self, now: Instant, r: &BfdRepr) {
        let old_iv = self.tx_interval();
        self.remote_discr = r.my_discriminator;
        self.remote_state = r.state;
        self.remote_diag = r.diag;
        self.remote_min_tx = r.desired_min_tx;
        self.remote_min_rx = r.required_min_rx;
        self.remote_detect_mult = r.detect_mult;
        self.last_rx = Some(now);
        if r.final_ && self.poll_active {
            self.poll_active = false;
            self.tx_in_use = self.desired_min_tx;
            self.rx_in_use = self.required_min_rx;
        }
        match (self.state, r.state) {
            (State::Init | State::Up, State::AdminDown) | (State::Up, State::Down) => {
                self.set_state(now, State::Down, Diag::NeighborDown)
            }
            (State::Down, State::Down) => self.set_state(now, State::Init, Diag::None),
            (State::Down, State::Init) | (State::Init, State::Init | State::Up) => {
                self.set_state(now, State::Up, Diag::None)
            }
            _ => {}
        }
        if r.poll {
            // §6.8.7: answer at once, regardless of the transmit timer.
            self.final_due = Some(now);
        }
        self.interval_changed(now, old_iv);
        self.rearm_detect();
    }

    /// Deadlines due at `now`: the Detection Time.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.detect_at.is_some_and(|t| t <= now) {
            // §6.8.1: a Detection Time without a packet clears RemoteDiscr.
            self.detect_at = None;
            self.last_rx = None;
            self.remote_discr = 0;
            self.remote_state = State::Down;
            if matches!(self.state, State::Init | State::Up) {
                self.set_state(now, State::Down, Diag::DetectionTimeExpired);
            }
        }
    }

    /// When `handle_timeout` or `poll_transmit` next has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.final_due, self.next_tx, self.detect_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Write the control packet due at `now` into `buf` (at least 24
    /// bytes) and return its length; None when nothing is due. A Final
    /// owed to the peer's Poll goes first (P clear, F set); periodic packets
    /// carry P while our Poll Sequence runs.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        let fin = self.final_due.is_some_and(|t| t <= now);
        let periodic = self.next_tx.is_some_and(|t| t <= now);
        if !(fin || periodic) {
            return None;
        }
        let mut p = BfdPacket::new_checked(buf).ok()?;
        let repr = BfdRepr {
            diag: self.local_diag,
            state: self.state,
            poll: self.poll_active && !fin,
            final_: fin,
            cpi: false,
            auth: false,
            demand: false,
            detect_mult: self.detect_mult,
            my_discriminator: self.local_discr,
            your_discriminator: self.remote_discr,
            desired_min_tx: self.desired_min_tx,
            required_min_rx: self.required_min_rx,
            required_min_echo_rx: 0,
        };
        repr.emit(&mut p);
        if fin {
            self.final_due = None;
        }
        if periodic {
            let iv = self.tx_interval();
            self.next_tx = iv.map(|iv| now + self.jittered(iv));
        }
        self.counters.tx += 1;
        Some(repr.buffer_len())
    }

    /// The oldest state change not yet collected.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// New timers (a config reload). While Up this starts a Poll Sequence.
    pub fn set_config(&mut self, now: Instant, cfg: SessionConfig) {
        self.cfg = sanitize(cfg);
        self.apply_params(now);
    }

    /// Take the session down administratively (RFC 5880 §6.8.16): the
    /// peer goes Down with "neighbor signaled session down"; we discard
    /// every packet until `admin_up`.
    pub fn admin_down(&mut self, now: Instant) {
        self.detect_at = None;
        self.last_rx = None;
        self.set_state(now, State::AdminDown, Diag::AdminDown);
    }

    /// Leave AdminDown for Down; the session then comes up as usual.
    pub fn admin_up(&mut self, now: Instant) {
        if self.state == State::AdminDown {
            self.set_state(now, State::Down, Diag::None);
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            state: self.state,
            remote_state: self.remote_state,
            local_discriminator: self.local_discr,
            remote_discriminator: self.remote_discr,
            local_diag: self.local_diag,
            remote_diag: self.remote_diag,
            desired_min_tx: duration(self.desired_min_tx),
            required_min_rx: duration(self.required_min_rx),
            detect_mult: self.detect_mult,
            remote_desired_min_tx: duration(self.remote_min_tx),
            remote_required_min_rx: duration(self.remote_min_rx),
            remote_detect_mult: self.remote_detect_mult,
            tx_interval: self.tx_interval().map(duration),
            rx_interval: self.rx_interval().map(duration),
            detect_time: self.detect_time(),
            poll_active: self.poll_active,
            last_state_change: self.last_change,
            last_rx: self.last_rx,
            counters: self.counters.clone(),
        }
    }
}

/// Desired Min TX must not be 0 (RFC 5880 §6.8.1), nor Detect Mult.
fn sanitize(mut cfg: SessionConfig) -> SessionConfig {
    cfg.desired_min_tx = cfg.desired_min_tx.max(Duration::from_micros(1));
    cfg.detect_mult = cfg.detect_mult.max(1);
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: u32 = 0x0a0b_0c0d;
    const PEER: u32 = 0x1234_5678;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    /// A packet from the peer in `state` (your discriminator ours unless
    /// Down/AdminDown with `your` 0).
    fn from_peer(state: State, your: u32, poll: bool, final_: bool) -> [u8; 24] {
        let mut b = [0u8; 24];
        BfdRepr {
            diag: Diag::None,
            state,
            poll,
            final_,
            cpi: false,
            auth: false,
            demand: false,
            detect_mult: 3,
            my_discriminator: PEER,
            your_discriminator: your,
            desired_min_tx: 10_000,
            required_min_rx: 10_000,
            required_min_echo_rx: 0,
        }
        .emit(&mut BfdPacket::new_unchecked(&mut b[..]));
        b
    }

    fn feed(s: &mut Session, now: Instant, state: State) -> Result<(), Drop> {
        s.handle_packet(now, &from_peer(state, LOCAL, false, false), 255)
    }

    /// A session driven into `state` by packets.
    fn session_in(state: State) -> Session {
        let mut s = Session::new(SessionConfig::default(), LOCAL, 7);
        match state {
            State::Down => {}
            State::Init => feed(&mut s, t(1), State::Down).unwrap(),
            State::Up => {
                feed(&mut s, t(1), State::Down).unwrap();
                feed(&mut s, t(2), State::Up).unwrap();
            }
            State::AdminDown => s.admin_down(t(1)),
        }
        assert_eq!(s.state(), state);
        while s.poll_event().is_some() {}
        s
    }

    /// RFC 5880 §6.8.6, the whole table: (local, received) -> (local, diag).
    #[test]
    fn state_transition_table() {
        use State::*;
        let table: &[(State, State, State, Option<Diag>)] = &[
            (Down, AdminDown, Down, None),
            (Down, Down, Init, Some(Diag::None)),
            (Down, Init, Up, Some(Diag::None)),
            (Down, Up, Down, None),
            (Init, AdminDown, Down, Some(Diag::NeighborDown)),
            (Init, Down, Init, None),
            (Init, Init, Up, Some(Diag::None)),
            (Init, Up, Up, Some(Diag::None)),
            (Up, AdminDown, Down, Some(Diag::NeighborDown)),
            (Up, Down, Down, Some(Diag::NeighborDown)),
            (Up, Init, Up, None),
            (Up, Up, Up, None),
        ];
        for &(local, rx, want, diag) in table {
            let mut s = session_in(local);
            let before = s.counters().state_changes;
            feed(&mut s, t(10), rx).unwrap();
            assert_eq!(s.state(), want, "{local:?} + {rx:?}");
            let ev = s.poll_event();
            match diag {
                Some(d) => {
                    let ev = ev.unwrap();
                    assert_eq!((ev.from, ev.to, ev.diag, ev.at), (local, want, d, t(10)));
                    assert_eq!(s.counters().state_changes, before + 1);
                    assert_eq!(s.snapshot().local_diag, d);
                }
                None => {
                    assert_eq!(ev, None, "{local:?} + {rx:?}");
                    assert_eq!(s.counters().state_changes, before);
                }
            }
            assert_eq!(s.remote_discriminator(), PEER);
        }
    }

    #[test]
    fn admin_down_discards_everything_and_admin_up_returns_to_down() {
        let mut s = session_in(State::Up);
        s.admin_down(t(10));
        assert_eq!(s.state(), State::AdminDown);
        let ev = s.poll_event().unwrap();
        assert_eq!(
            (ev.from, ev.to, ev.diag),
            (State::Up, State::AdminDown, Diag::AdminDown)
        );
        for st in [State::Down, State::Init, State::Up] {
            assert_eq!(feed(&mut s, t(11), st), Err(Drop::AdminDown));
        }
        assert_eq!(s.counters().drop_count(Drop::AdminDown), 3);
        assert_eq!(s.state(), State::AdminDown);
        // It keeps telling the peer, at the slow-start rate.
        let mut buf = [0u8; 64];
        let mut sent = Vec::new();
        let mut now = t(10);
        while now < t(5000) {
            if s.poll_transmit(now, &mut buf).is_some() {
                let r = BfdRepr::parse(&BfdPacket::new_checked(&buf[..]).unwrap()).unwrap();
                assert_eq!((r.state, r.diag), (State::AdminDown, Diag::AdminDown));
                assert_eq!(r.desired_min_tx, 1_000_000);
                sent.push(now);
            }
            now = s
                .poll_timeout()
                .unwrap()
                .max(now + Duration::from_micros(1));
        }
        assert!((5..=7).contains(&sent.len()), "{sent:?}");
        assert_eq!(
            s.poll_timeout(),
            s.next_tx,
            "no detection timer in AdminDown"
        );
        s.admin_up(t(5000));
        assert_eq!(s.state(), State::Down);
        feed(&mut s, t(5001), State::Init).unwrap();
        assert_eq!(s.state(), State::Up);
    }

    #[test]
    fn session_level_drops_are_counted_and_change_nothing() {
        let mut s = session_in(State::Init);
        let good = from_peer(State::Up, LOCAL, false, false);
        assert_eq!(s.handle_packet(t(5), &good, 254), Err(Drop::Ttl));
        assert_eq!(s.handle_packet(t(5), &good, 1), Err(Drop::Ttl));
        let other = from_peer(State::Up, LOCAL + 1, false, false);
        assert_eq!(
            s.handle_packet(t(5), &other, 255),
            Err(Drop::UnknownDiscriminator)
        );
        let mut auth = good.to_vec();
        auth[1] |= 0x04;
        auth[3] = 26;
        auth.extend_from_slice(&[1, 2]);
        assert_eq!(s.handle_packet(t(5), &auth, 255), Err(Drop::Auth));
        assert_eq!(
            s.handle_packet(t(5), &good[..10], 255),
            Err(Drop::Truncated)
        );
        assert_eq!(s.state(), State::Init);
        let c = s.counters();
        assert_eq!(c.rx, 6); // the Down that brought it to Init, and five drops
        assert_eq!(c.drops_total(), 5);
        assert_eq!(c.drop_count(Drop::Ttl), 2);
        assert_eq!(c.drop_count(Drop::UnknownDiscriminator), 1);
        assert_eq!(c.drop_count(Drop::Auth), 1);
        assert_eq!(c.drop_count(Drop::Truncated), 1);
        let named: Vec<_> = c.drops_named().filter(|(_, n)| *n > 0).collect();
        assert_eq!(
            named,
            vec![
                ("truncated", 1),
                ("ttl", 2),
                ("auth", 1),
                ("unknown_discriminator", 1)
            ]
        );
        // The good one still works.
        s.handle_packet(t(6), &good, 255).unwrap();
        assert_eq!(s.state(), State::Up);
    }

    #[test]
    fn first_packet_is_down_at_once_with_slow_start_timers() {
        let mut s = Session::new(SessionConfig::default(), LOCAL, 1);
        assert_eq!(s.poll_timeout(), Some(Instant::ZERO));
        let mut buf = [0u8; 24];
        assert_eq!(s.poll_transmit(t(100), &mut buf), Some(24));
        let r = BfdRepr::parse(&BfdPacket::new_checked(&buf[..]).unwrap()).unwrap();
        assert_eq!(
            (r.state, r.your_discriminator, r.my_discriminator),
            (State::Down, 0, LOCAL)
        );
        assert_eq!(
            (r.desired_min_tx, r.required_min_rx, r.detect_mult),
            (1_000_000, 10_000, 3)
        );
        assert!(!r.poll && !r.final_ && !r.auth && !r.demand);
        // Nothing more until the slow-start interval (less jitter) passed.
        assert_eq!(s.poll_transmit(t(100), &mut buf), None);
        let next = s.poll_timeout().unwrap();
        assert!(next >= t(850) && next <= t(1100), "{next:?}");
        // A too-short buffer gets nothing (and no panic).
        assert_eq!(s.poll_transmit(next, &mut [0u8; 23]), None);
    }

    #[test]
    fn poll_is_answered_at_once_with_final() {
        let mut s = session_in(State::Up);
        let mut buf = [0u8; 24];
        let now = t(50);
        while s.poll_transmit(now, &mut buf).is_some() {}
        s.handle_packet(now, &from_peer(State::Up, LOCAL, true, false), 255)
            .unwrap();
        assert_eq!(s.poll_timeout(), Some(now));
        assert_eq!(s.poll_transmit(now, &mut buf), Some(24));
        let r = BfdRepr::parse(&BfdPacket::new_checked(&buf[..]).unwrap()).unwrap();
        assert!(r.final_ && !r.poll);
        assert_eq!(s.poll_transmit(now, &mut buf), None, "one Final per Poll");
    }

    #[test]
    fn peer_asking_for_no_packets_stops_periodic_sending() {
        let mut s = session_in(State::Init);
        let mut b = from_peer(State::Init, LOCAL, false, false);
        BfdPacket::new_unchecked(&mut b[..]).set_required_min_rx(0);
        s.handle_packet(t(10), &b, 255).unwrap();
        assert_eq!(s.snapshot().tx_interval, None);
        let mut buf = [0u8; 24];
        for ms in 10..3000 {
            assert_eq!(s.poll_transmit(t(ms), &mut buf), None);
        }
        // A Poll is still answered.
        BfdPacket::new_unchecked(&mut b[..]).set_state_flags(State::Up, 0x20);
        s.handle_packet(t(3000), &b, 255).unwrap();
        assert_eq!(s.poll_transmit(t(3000), &mut buf), Some(24));
    }

    #[test]
    fn event_queue_is_bounded_and_counts_losses() {
        let mut s = Session::new(SessionConfig::default(), LOCAL, 3);
        // 2 events per round (Down -> Init -> Down).
        for i in 0..10u64 {
            feed(&mut s, t(10 * i + 1), State::Down).unwrap();
            feed(&mut s, t(10 * i + 2), State::AdminDown).unwrap();
        }
        assert_eq!(s.counters().state_changes, 20);
        assert_eq!(s.counters().events_lost, 20 - EVENT_CAPACITY as u64);
        let evs: Vec<_> = core::iter::from_fn(|| s.poll_event()).collect();
        assert_eq!(evs.len(), EVENT_CAPACITY);
        assert_eq!(evs.last().unwrap().at, t(92), "the newest are kept");
    }

    /// Random bytes (mostly near-valid: a good packet with random bytes
    /// flipped) never panic; every one is either accepted or counted.
    #[test]
    fn random_input_is_accepted_or_counted() {
        let mut rng = XorShift64Star::new(0xbfd);
        let mut s = Session::new(SessionConfig::default(), LOCAL, 5);
        let mut accepted = 0u64;
        let mut buf = [0u8; 64];
        for i in 0..200_000u64 {
            let now = t(i);
            let mut b =
                from_peer(State::from_bits(rng.next_u64() as u8), LOCAL, false, false).to_vec();
            let len = (rng.next_u64() % 40) as usize;
            b.resize(len, rng.next_u64() as u8);
            for _ in 0..(rng.next_u64() % 4) {
                if !b.is_empty() {
                    let at = (rng.next_u64() % b.len() as u64) as usize;
                    b[at] = rng.next_u64() as u8;
                }
            }
            let ttl = if rng.next_u64() % 8 == 0 { 254 } else { 255 };
            if s.handle_packet(now, &b, ttl).is_ok() {
                accepted += 1;
            }
            s.handle_timeout(now);
            while s.poll_transmit(now, &mut buf).is_some() {}
            let _ = s.poll_event();
            if i % 50_000 == 0 {
                s.admin_down(now);
            } else if i % 50_000 == 10 {
                s.admin_up(now);
            }
        }
        let c = s.counters();
        assert_eq!(c.rx, 200_000);
        assert_eq!(c.rx, accepted + c.drops_total());
        assert!(accepted > 10_000 && c.drops_total() > 10_000, "{c:?}");
        assert!(
            Drop::ALL.iter().filter(|d| c.drop_count(**d) > 0).count() >= 10,
            "{c:?}"
        );
    }

    #[test]
    fn jitter_stays_in_bounds() {
        for (mult, lo, hi) in [(3u8, 7_500u64, 10_000u64), (1, 7_500, 9_000)] {
            let cfg = SessionConfig {
                detect_mult: mult,
                ..SessionConfig::default()
            };
            let mut s = Session::new(cfg, LOCAL, 99);
            let (mut min, mut max) = (u64::MAX, 0);
            for _ in 0..10_000 {
                let d = s.jittered(10_000).as_micros() as u64;
                min = min.min(d);
                max = max.max(d);
            }
            assert!(min >= lo && max <= hi, "mult {mult}: {min}..{max}");
            // Spread over the whole range, not a constant.
            assert!(
                min < lo + 100 && max > hi - 100,
                "mult {mult}: {min}..{max}"
            );
        }
    }
}
