//! Two sessions wired by an in-memory link with a virtual clock, a fixed
//! delay and loss windows: bring-up, negotiation, the detection time, the
//! transmit interval and its jitter, slow start, poll sequences,
//! AdminDown, and a flapping link.

use super::packet::{BfdPacket, BfdRepr};
use super::*;

const A: usize = 0;
const B: usize = 1;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn at(v: u64) -> Instant {
    Instant::from_millis(v)
}

fn cfg(tx: u64, rx: u64, mult: u8) -> SessionConfig {
    SessionConfig {
        desired_min_tx: ms(tx),
        required_min_rx: ms(rx),
        detect_mult: mult,
    }
}

/// A packet as sent (before any loss).
struct Sent {
    at: Instant,
    from: usize,
    repr: BfdRepr,
}

/// A loss window `[from, to)` on packets sent by `sender` (None: both ways).
struct Loss {
    from: Instant,
    to: Instant,
    sender: Option<usize>,
}

struct Pair {
    s: [Session; 2],
    now: Instant,
    delay: Duration,
    loss: Vec<Loss>,
    /// (arrival, receiver, bytes), in send order.
    flight: Vec<(Instant, usize, [u8; 24])>,
    sent: Vec<Sent>,
    delivered: [Vec<Instant>; 2],
    events: [Vec<Event>; 2],
}

impl Pair {
    fn new(a: SessionConfig, b: SessionConfig) -> Pair {
        Pair {
            s: [Session::new(a, 0xa, 1), Session::new(b, 0xb, 2)],
            now: Instant::ZERO,
            delay: Duration::from_micros(200),
            loss: Vec::new(),
            flight: Vec::new(),
            sent: Vec::new(),
            delivered: [Vec::new(), Vec::new()],
            events: [Vec::new(), Vec::new()],
        }
    }

    fn cut(&mut self, from: Instant, len: Duration, sender: Option<usize>) {
        self.loss.push(Loss {
            from,
            to: from + len,
            sender,
        });
    }

    fn lost(&self, t: Instant, from: usize) -> bool {
        self.loss
            .iter()
            .any(|l| t >= l.from && t < l.to && l.sender.is_none_or(|s| s == from))
    }

    fn transmit(&mut self) {
        for i in [A, B] {
            let mut buf = [0u8; 24];
            while let Some(n) = self.s[i].poll_transmit(self.now, &mut buf) {
                assert_eq!(n, 24);
                let repr = BfdRepr::parse(&BfdPacket::new_checked(&buf[..]).unwrap()).unwrap();
                self.sent.push(Sent {
                    at: self.now,
                    from: i,
                    repr,
                });
                if !self.lost(self.now, i) {
                    self.flight.push((self.now + self.delay, 1 - i, buf));
                }
            }
            while let Some(e) = self.s[i].poll_event() {
                self.events[i].push(e);
            }
        }
    }

    /// Run the virtual clock to `end`, event by event.
    fn run_until(&mut self, end: Instant) {
        for _ in 0..10_000_000 {
            self.transmit();
            let next = [
                self.s[A].poll_timeout(),
                self.s[B].poll_timeout(),
                self.flight.iter().map(|f| f.0).min(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(n) if n <= end => self.now = self.now.max(n),
                _ => {
                    self.now = end;
                    return;
                }
            }
            let now = self.now;
            let (due, rest): (Vec<_>, Vec<_>) = self.flight.drain(..).partition(|f| f.0 <= now);
            self.flight = rest;
            for (_, to, bytes) in due {
                // Only AdminDown discards here (counted by the session).
                match self.s[to].handle_packet(now, &bytes, TTL) {
                    Ok(()) | Err(Drop::AdminDown) => {}
                    Err(e) => panic!("dropped: {e}"),
                }
                self.delivered[to].push(now);
            }
            for s in &mut self.s {
                s.handle_timeout(now);
            }
        }
        panic!("run_until did not reach {end:?}");
    }

    fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        self.run_until(end);
    }

    fn both_up(&self) -> bool {
        self.s.iter().all(|s| s.state() == State::Up)
    }

    fn count(&self, i: usize, to: State) -> usize {
        self.events[i].iter().filter(|e| e.to == to).count()
    }

    /// Periodic packets (not Finals) of `from` sent in `[t0, t1)`, and the
    /// gaps between them.
    fn periodic_gaps(&self, from: usize, t0: Instant, t1: Instant) -> Vec<Duration> {
        let times: Vec<Instant> = self
            .sent
            .iter()
            .filter(|p| p.from == from && !p.repr.final_ && p.at >= t0 && p.at < t1)
            .map(|p| p.at)
            .collect();
        times.windows(2).map(|w| w[1] - w[0]).collect()
    }
}

/// Some gaps, every one within `[lo, hi]`.
fn assert_gaps(gaps: &[Duration], lo: Duration, hi: Duration) {
    assert!(!gaps.is_empty());
    assert!(
        gaps.iter().all(|g| *g >= lo && *g <= hi),
        "want {lo:?}..={hi:?}: {gaps:?}"
    );
}

fn up_pair(a: SessionConfig, b: SessionConfig) -> Pair {
    let mut p = Pair::new(a, b);
    p.run_until(at(5000));
    assert!(p.both_up(), "{:?}", p.events);
    p
}

#[test]
fn bring_up_with_slow_start_then_poll_to_the_configured_timers() {
    let p = up_pair(SessionConfig::default(), SessionConfig::default());
    for i in [A, B] {
        assert_eq!(p.count(i, State::Up), 1);
        assert_eq!(p.count(i, State::Down), 0);
        let first_up = p.events[i].iter().find(|e| e.to == State::Up).unwrap().at;
        assert!(first_up < at(2100), "up at {first_up:?}");
        let snap = p.s[i].snapshot();
        assert_eq!(snap.remote_discriminator, p.s[1 - i].local_discriminator());
        assert_eq!(snap.tx_interval, Some(ms(10)));
        assert_eq!(snap.rx_interval, Some(ms(10)));
        assert_eq!(snap.detect_time, Some(ms(30)));
        assert_eq!(snap.desired_min_tx, ms(10));
        assert!(!snap.poll_active);
        assert_eq!(snap.counters.polls, 1);
        assert_eq!(snap.last_rx, p.delivered[i].last().copied());
        // Before Up every packet advertised slow start; the first periodic
        // one after (not a Final to the peer's Poll) carried the Poll for
        // 10 ms, and the peer answered with a Final.
        let before: Vec<_> = p
            .sent
            .iter()
            .filter(|s| s.from == i && s.at < first_up)
            .collect();
        assert!(!before.is_empty());
        assert!(before.iter().all(|s| s.repr.desired_min_tx == 1_000_000));
        let poll = p
            .sent
            .iter()
            .find(|s| s.from == i && s.at >= first_up && !s.repr.final_)
            .unwrap();
        assert!(poll.repr.poll, "first Up packet polls");
        assert_eq!(poll.repr.desired_min_tx, 10_000);
        let fin = p
            .sent
            .iter()
            .find(|s| s.from == 1 - i && s.repr.final_ && s.at > poll.at)
            .unwrap();
        assert_eq!(fin.at, poll.at + p.delay, "Final sent on receipt");
    }
    // Nothing dropped, every packet accepted.
    for s in &p.s {
        assert_eq!(s.counters().drops_total(), 0);
    }
}

#[test]
fn timers_negotiate_per_direction() {
    // A: tx 10, rx 50, mult 3. B: tx 20, rx 10, mult 5.
    let mut p = up_pair(cfg(10, 50, 3), cfg(20, 10, 5));
    let (a, b) = (p.s[A].snapshot(), p.s[B].snapshot());
    // A sends at max(10, B's rx 10); B at max(20, A's rx 50).
    assert_eq!(a.tx_interval, Some(ms(10)));
    assert_eq!(b.tx_interval, Some(ms(50)));
    // A detects B after B's mult 5 × max(A's rx 50, B's tx 20).
    assert_eq!(a.detect_time, Some(ms(250)));
    // B detects A after A's mult 3 × max(B's rx 10, A's tx 10).
    assert_eq!(b.detect_time, Some(ms(30)));
    let t0 = p.now;
    p.run_for(ms(3000));
    let gaps = p.periodic_gaps(B, t0, p.now);
    assert!(gaps.len() > 50);
    assert_gaps(&gaps, Duration::from_micros(37_500), ms(50));
    assert!(p.both_up());
}

/// Down exactly one Detection Time after the last packet, on the virtual clock.
#[test]
fn detection_time_is_multiplier_times_negotiated_interval() {
    for (a, b, want) in [
        (cfg(10, 10, 3), cfg(10, 10, 3), 30),
        (cfg(10, 10, 3), cfg(20, 10, 4), 80),
        (cfg(10, 50, 2), cfg(10, 10, 5), 250),
        (cfg(10, 10, 1), cfg(15, 10, 1), 15),
    ] {
        let mut p = up_pair(a, b);
        let dt = p.s[A].detect_time().unwrap();
        assert_eq!(dt, ms(want));
        // B's packets stop reaching A.
        let cut = p.now;
        p.cut(cut, ms(100_000), Some(B));
        p.run_for(ms(2000));
        let down = p.events[A]
            .iter()
            .find(|e| e.to == State::Down)
            .copied()
            .unwrap();
        assert_eq!(down.diag, Diag::DetectionTimeExpired);
        let last = p.delivered[A]
            .iter()
            .rev()
            .find(|t| **t <= down.at)
            .unwrap();
        let measured = down.at - *last;
        let err = measured.abs_diff(dt);
        assert!(err <= ms(1), "want {dt:?}, measured {measured:?}");
        // A now says Down; B hears it within one A interval and follows.
        let b_down = p.events[B].iter().find(|e| e.to == State::Down).unwrap();
        assert_eq!(b_down.diag, Diag::NeighborDown);
        assert!(b_down.at - down.at <= ms(16), "{:?}", b_down.at - down.at);
        assert_eq!(p.s[A].remote_discriminator(), 0);
        assert_eq!(
            p.s[A].snapshot().last_rx,
            None,
            "cleared with the discriminator"
        );
    }
}

#[test]
fn transmit_interval_and_jitter_over_many_samples() {
    for (mult, lo_us, hi_us) in [(3u8, 7_500u64, 10_000u64), (1, 7_500, 9_000)] {
        let c = cfg(10, 10, mult);
        let mut p = up_pair(c, c);
        let t0 = p.now;
        p.run_for(ms(10_000));
        assert!(p.both_up(), "mult {mult}");
        for i in [A, B] {
            let gaps = p.periodic_gaps(i, t0, p.now);
            let us: Vec<u64> = gaps.iter().map(|g| g.as_micros() as u64).collect();
            let (min, max) = (*us.iter().min().unwrap(), *us.iter().max().unwrap());
            let mean = us.iter().sum::<u64>() / us.len() as u64;
            assert!(us.len() > 1000, "{}", us.len());
            assert!(min >= lo_us && max <= hi_us, "mult {mult}: {min}..{max}");
            assert!(
                min < lo_us + 200 && max > hi_us - 200,
                "spread {min}..{max}"
            );
            let mid = (lo_us + hi_us) / 2;
            assert!(mean.abs_diff(mid) < 150, "mean {mean}, want ~{mid}");
        }
    }
}

#[test]
fn slow_start_while_not_up() {
    // Alone: nobody answers, so it stays Down and sends once a second.
    let mut p = Pair::new(SessionConfig::default(), SessionConfig::default());
    p.cut(at(0), ms(1_000_000), Some(B));
    p.cut(at(0), ms(1_000_000), Some(A));
    p.run_until(at(20_000));
    assert_eq!(p.s[A].state(), State::Down);
    let gaps = p.periodic_gaps(A, at(0), p.now);
    assert!(gaps.len() >= 19, "{}", gaps.len());
    assert_gaps(&gaps, ms(750), ms(1000));
    assert!(
        p.sent
            .iter()
            .all(|s| s.repr.desired_min_tx == 1_000_000 && s.repr.state == State::Down)
    );
    // Heal the link: Up, 10 ms; cut it for good: Down, back to 1 s.
    p.loss.clear();
    p.run_for(ms(5000));
    assert!(p.both_up());
    let cut = p.now;
    p.cut(cut, ms(1_000_000), None);
    p.run_for(ms(10_000));
    assert_eq!(p.s[A].state(), State::Down);
    assert_eq!(p.s[A].snapshot().desired_min_tx, ms(1000));
    let gaps = p.periodic_gaps(A, cut + ms(2000), p.now);
    assert_gaps(&gaps, ms(750), ms(1000));
    assert!(
        p.sent
            .iter()
            .rev()
            .take(3)
            .all(|s| s.repr.desired_min_tx == 1_000_000)
    );
}

#[test]
fn poll_sequence_holds_a_slower_tx_until_final() {
    let mut p = up_pair(SessionConfig::default(), SessionConfig::default());
    let polls = p.s[A].counters().polls;
    let t0 = p.now;
    p.s[A].set_config(t0, cfg(50, 10, 3));
    let snap = p.s[A].snapshot();
    assert!(snap.poll_active);
    assert_eq!(snap.desired_min_tx, ms(50), "advertised at once");
    assert_eq!(snap.tx_interval, Some(ms(10)), "used only after the Final");
    assert_eq!(p.s[A].counters().polls, polls + 1);
    p.run_for(ms(30));
    let poll = p
        .sent
        .iter()
        .find(|s| s.from == A && s.at >= t0 && s.repr.poll)
        .unwrap();
    assert_eq!(poll.repr.desired_min_tx, 50_000);
    assert!(poll.at - t0 <= ms(10));
    let fin = p
        .sent
        .iter()
        .find(|s| s.from == B && s.at >= poll.at && s.repr.final_)
        .unwrap();
    assert_eq!(fin.at, poll.at + p.delay);
    let snap = p.s[A].snapshot();
    assert!(!snap.poll_active);
    assert_eq!(snap.tx_interval, Some(ms(50)));
    // B now expects A every 50 ms: 3 × 50.
    assert_eq!(p.s[B].detect_time(), Some(ms(150)));
    // No more Polls once the Final came.
    let t1 = p.now;
    p.run_for(ms(2000));
    assert!(
        !p.sent
            .iter()
            .any(|s| s.from == A && s.at >= t1 && s.repr.poll)
    );
    let gaps = p.periodic_gaps(A, t1 + ms(100), p.now);
    assert_gaps(&gaps, Duration::from_micros(37_500), ms(50));
    assert!(p.both_up());
    assert_eq!(p.count(A, State::Down) + p.count(B, State::Down), 0);
}

#[test]
fn poll_sequence_holds_a_faster_rx_until_final() {
    let mut p = up_pair(cfg(10, 50, 3), SessionConfig::default());
    assert_eq!(p.s[A].detect_time(), Some(ms(150)));
    let t0 = p.now;
    p.s[A].set_config(t0, cfg(10, 10, 3));
    // B still sends every 50 ms until it learns the new value: keep 150 ms.
    assert_eq!(p.s[A].detect_time(), Some(ms(150)));
    p.run_for(ms(30));
    assert!(!p.s[A].snapshot().poll_active);
    assert_eq!(p.s[A].detect_time(), Some(ms(30)));
    assert_eq!(p.s[B].snapshot().tx_interval, Some(ms(10)));
    p.run_for(ms(2000));
    assert!(p.both_up());
    assert_eq!(p.count(A, State::Down), 0);
}

#[test]
fn admin_down_takes_the_peer_down_until_admin_up() {
    let mut p = up_pair(SessionConfig::default(), SessionConfig::default());
    let t0 = p.now;
    p.s[A].admin_down(t0);
    p.run_for(ms(5000));
    assert_eq!(p.s[A].state(), State::AdminDown);
    assert_eq!(p.s[B].state(), State::Down);
    let ev = p.events[B].iter().find(|e| e.to == State::Down).unwrap();
    assert_eq!(ev.diag, Diag::NeighborDown);
    assert_eq!(
        ev.remote_diag,
        Diag::AdminDown,
        "an orderly stop is visible"
    );
    assert!(ev.at - t0 <= ms(11));
    assert_eq!(p.count(B, State::Down), 1, "stays Down, no flapping");
    assert!(p.s[A].counters().drop_count(Drop::AdminDown) > 0);
    p.s[A].admin_up(p.now);
    p.run_for(ms(4000));
    assert!(p.both_up());
    assert_eq!(p.count(A, State::Up), 2);
    assert_eq!(p.count(B, State::Up), 2);
}

/// Outages shorter than the detection time are ridden out; each longer one
/// takes both sessions Down exactly once, and they come back Up.
#[test]
fn flapping_link_goes_down_once_per_long_outage() {
    // Detection time 30 ms, interval 7.5-10 ms: an outage of L ms leaves a
    // gap of at most L + 20 ms between received packets.
    let outages: &[(u64, Option<usize>, bool)] = &[
        (5, None, false),
        (40, None, true),
        (8, None, false),
        (8, Some(A), false),
        (200, None, true),
        (3, Some(B), false),
        (60, Some(B), true),
        (9, None, false),
        (1000, None, true),
        (5, None, false),
    ];
    let mut p = up_pair(SessionConfig::default(), SessionConfig::default());
    let mut long = 0;
    for &(len, sender, goes_down) in outages {
        assert!(p.both_up(), "up before each outage");
        let downs = [p.count(A, State::Down), p.count(B, State::Down)];
        let start = p.now;
        p.cut(start, ms(len), sender);
        // Long enough to come back Up after slow start.
        p.run_for(ms(6000));
        long += usize::from(goes_down);
        for i in [A, B] {
            let want = downs[i] + usize::from(goes_down);
            assert_eq!(
                p.count(i, State::Down),
                want,
                "outage {len} ms from {sender:?}"
            );
        }
    }
    for i in [A, B] {
        assert_eq!(p.count(i, State::Down), long);
        assert_eq!(p.count(i, State::Up), long + 1);
        assert_eq!(p.s[i].counters().down, long as u64);
        assert_eq!(p.s[i].counters().up, long as u64 + 1);
    }
    assert!(p.both_up());
}
