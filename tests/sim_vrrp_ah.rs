//! VRRPv2 `auth_type ah` (IPsec AH, HMAC-MD5-96, keepalived's layout) in
//! the simulator: two routers with the same key elect one master and stay
//! so; with different keys each drops the other's adverts (counted) and
//! both become master; a replayed advert, a forged sequence number, a
//! wrong SPI and a bare advert are counted and change nothing; a master
//! that restarts (its counter back at 0) is master again within a few
//! seconds, as with keepalived's shared counter.

mod sim;

use hagw::config::{VrrpAuth, VrrpGroup};
use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState::*;
use hagw::wire::ah;
use hagw::wire::build::AdvertHeader;
use hagw::wire::{EthernetAddress, VrrpRepr};
use sim::config::{ConfigBuilder, ip};
use sim::{Sim, group_status, ip_checksum, port_drop};

fn secs(s: u64) -> Instant {
    Instant::from_secs(s)
}

/// R0 priority 100 (192.168.42.2), R1 priority 200 (192.168.42.3), group
/// "g" vrid 42 with `auth_type ah` and the given keys.
fn pair(seed: u64, keys: [&str; 2], f: impl Fn(usize, &mut VrrpGroup)) -> Sim {
    let mut sim = Sim::new(seed);
    for (r, key) in keys.iter().enumerate() {
        let cfg = ConfigBuilder::new(r as u16 + 1)
            .interface("lan", &format!("192.168.42.{}/24", r + 2))
            .group("g", "lan", 42, &["192.168.42.50/24"], |g| {
                g.priority = if r == 1 { 200 } else { 100 };
                g.auth = VrrpAuth::Ah((*key).into());
                f(r, g);
            })
            .build();
        sim.add_router(&format!("R{r}"), cfg);
    }
    sim.connect("lan", &[(0, "lan"), (1, "lan")]);
    sim
}

fn counters(sim: &Sim, r: usize) -> hagw::vrrp::GroupCounters {
    group_status(sim, r).counters
}

/// Router `r`'s AH adverts since `from`: (frame, sequence number, priority).
fn ah_adverts(sim: &Sim, r: usize, from: usize) -> Vec<(Vec<u8>, u32, u8)> {
    sim.sent[from..]
        .iter()
        .filter(|s| s.router == r && s.bytes.len() > 14 + 20 + 24 + 8)
        .filter(|s| s.bytes[12..14] == [8, 0] && s.bytes[14 + 9] == 51)
        .map(|s| {
            let b = &s.bytes;
            let seq = u32::from_be_bytes([b[42], b[43], b[44], b[45]]);
            (b.clone(), seq, b[14 + 20 + 24 + 2])
        })
        .collect()
}

#[test]
fn same_key_one_master_sequence_climbs_and_icv_verifies() {
    let mut sim = pair(71, ["k3y", "k3y"], |_, _| {});
    sim.run_until(secs(20));
    assert_eq!(sim.masters("g"), vec![1]);
    assert_eq!(sim.state(0, "g"), Some(Backup));
    let adv = ah_adverts(&sim, 1, 0);
    assert!(adv.len() >= 15, "{} adverts", adv.len());
    for w in adv.windows(2) {
        assert!(w[1].1 > w[0].1, "sequence numbers climb");
    }
    let key = ah::key_from_password(b"k3y");
    for (f, _, prio) in &adv {
        assert_eq!(*prio, 200);
        assert!(ah::verify(&key, &f[14..], false));
        assert!(!ah::verify(&ah::key_from_password(b"k3Y"), &f[14..], false));
        // SPI = source address, next header VRRP, VRRP auth type 2.
        assert_eq!(f[38..42], f[26..30]);
        assert_eq!(f[34], 112);
        assert_eq!(f[14 + 20 + 24 + 4], 2);
    }
    // No bare VRRP (protocol 112) adverts at all.
    assert!(
        !sim.sent
            .iter()
            .any(|s| s.bytes.len() > 23 && s.bytes[12..14] == [8, 0] && s.bytes[23] == 112)
    );
    let c = counters(&sim, 0);
    assert!(c.adverts_rx >= 15, "{c:?}");
    assert_eq!((c.rx_auth_error, c.rx_ah_replay), (0, 0), "{c:?}");
    assert_eq!(
        sim.trace
            .iter()
            .filter(|t| t.router == 1 && t.state == Master)
            .count(),
        1
    );
}

#[test]
fn wrong_key_each_drops_the_other_and_both_become_master() {
    let mut sim = pair(72, ["k3y", "other"], |_, _| {});
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![0, 1]);
    for r in 0..2 {
        let c = counters(&sim, r);
        assert!(c.rx_auth_error >= 5, "R{r}: {c:?}");
        assert_eq!(port_drop(&sim, r, "vrrp_auth"), c.rx_auth_error, "R{r}");
    }
}

#[test]
fn replay_forgery_wrong_spi_and_bare_adverts_counted_no_state_change() {
    let mut sim = pair(73, ["k3y", "k3y"], |_, _| {});
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![1]);
    let adv = ah_adverts(&sim, 1, 0);
    let (old, _, _) = adv[0].clone();
    let (last, last_seq, _) = adv.last().unwrap().clone();
    let key = ah::key_from_password(b"k3y");
    let trace_len = sim.trace.len();
    let mut bad = Vec::new();
    // A replay of R1's first advert, and of its latest one.
    bad.push(("vrrp_replay", old));
    bad.push(("vrrp_replay", last.clone()));
    // A higher sequence number without the key: the ICV fails.
    let mut f = last.clone();
    f[42..46].copy_from_slice(&(last_seq + 1000).to_be_bytes());
    bad.push(("vrrp_auth", f));
    // Right key, SPI not the source address.
    let mut f = last.clone();
    f[38..42].copy_from_slice(&[10, 0, 0, 1]);
    f[42..46].copy_from_slice(&(last_seq + 1000).to_be_bytes());
    let icv = ah::icv(&key, &f[14..], false).unwrap();
    f[46..58].copy_from_slice(&icv);
    bad.push(("vrrp_auth", f));
    // A bare advert (no AH) from a priority-254 router.
    let mut a = sim::AdvertFrame::v2("192.168.42.9", 42, 254, &["192.168.42.50"]);
    a.auth = Some([0; 8]);
    bad.push(("vrrp_auth", a.build()));
    // Truncated AH.
    let mut f = last.clone();
    f.truncate(14 + 20 + 10);
    f[16..18].copy_from_slice(&30u16.to_be_bytes());
    f[24..26].copy_from_slice(&[0, 0]);
    let c = ip_checksum(&f[14..34]);
    f[24..26].copy_from_slice(&c.to_be_bytes());
    bad.push(("malformed", f));
    for (why, f) in &bad {
        let before = port_drop(&sim, 0, why);
        sim.inject(0, "lan", f);
        assert_eq!(port_drop(&sim, 0, why), before + 1, "{why}");
        sim.run_for(Duration::from_millis(100));
    }
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.trace.len(), trace_len, "no state change");
    let c = counters(&sim, 0);
    assert_eq!((c.rx_ah_replay, c.rx_auth_error), (2, 3), "{c:?}");
    // Control: a valid advert from a priority-254 router with a fresh
    // sequence number is accepted and makes the master yield.
    let repr = VrrpRepr {
        version: 2,
        vrid: 42,
        priority: 254,
        advert_interval: 1,
        auth_type: 2,
        auth_data: [0; 8],
        addresses: heapless::Vec::from_slice(&[ip("192.168.42.50")]).unwrap(),
    };
    let hdr = AdvertHeader::multicast(
        EthernetAddress([2, 0xee, 0, 0, 0, 9]),
        ip("192.168.42.9"),
        1,
    );
    let mut buf = [0u8; 128];
    let n = ah::vrrp_advert(&mut buf, &hdr, &repr, &key, last_seq + 10_000, false);
    sim.inject(1, "lan", &buf[..n]);
    assert_eq!(sim.state(1, "g"), Some(Backup));
    // The same frame again is a replay.
    let before = port_drop(&sim, 1, "vrrp_replay");
    sim.inject(1, "lan", &buf[..n]);
    assert_eq!(port_drop(&sim, 1, "vrrp_replay"), before + 1);
}

/// A master that restarts counts from 0 again. A plain master restarts as
/// backup and learns the counter from its peer, which becomes master for
/// a moment. An address owner is master at once: its peer refuses its
/// adverts as replays, becomes master and sends above what it had seen;
/// the owner accepts that and continues above it. Either way the
/// restarted router is the one master again within a few seconds.
fn restarted_master_is_master_again(seed: u64, owner: bool) {
    let mut sim = pair(seed, ["k3y", "k3y"], |_, g| {
        if owner {
            g.virtual_addresses = vec![sim::config::cidr("192.168.42.3/24")];
        }
    });
    sim.run_until(secs(30));
    assert_eq!(sim.masters("g"), vec![1]);
    sim.restart(1);
    let t = sim.now;
    sim.run_until(secs(45));
    assert_eq!(sim.masters("g"), vec![1]);
    assert_eq!(sim.state(0, "g"), Some(Backup));
    let back = sim.entered(1, "g", Master, t).expect("R1 master again");
    assert!(back - t < Duration::from_secs(8), "took {:?}", back - t);
    let c0 = counters(&sim, 0);
    assert_eq!(c0.rx_ah_replay > 0, owner, "{c0:?}");
    // And it stays so: R0 accepts R1's adverts again.
    let mark = sim.sent.len();
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters("g"), vec![1]);
    let c1 = counters(&sim, 0);
    assert_eq!(c1.rx_ah_replay, c0.rx_ah_replay, "no more replays");
    assert!(c1.adverts_rx >= c0.adverts_rx + 9);
    assert!(ah_adverts(&sim, 1, mark).len() >= 9);
}

#[test]
fn restarted_master_is_master_again_via_backup() {
    restarted_master_is_master_again(74, false);
}

#[test]
fn restarted_owner_is_master_again_after_refused_adverts() {
    restarted_master_is_master_again(75, true);
}

/// Mutated copies of an advert the backup has already accepted (bit flips,
/// truncation, extension, AH length and next-header changes) never panic,
/// are all dropped and counted, and never change any state: a copy that
/// still authenticates (only mutable IP fields changed) is a replay.
#[test]
fn mutated_ah_adverts_never_panic_and_are_all_dropped() {
    let mut sim = pair(76, ["k3y", "k3y"], |_, _| {});
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![1]);
    let (base, _, _) = ah_adverts(&sim, 1, 0).last().unwrap().clone();
    let trace_len = sim.trace.len();
    let drops = |sim: &Sim| -> u64 {
        let s = sim.routers[0].engine.as_ref().unwrap().snapshot(sim.now);
        s.ports[0].drops.iter().map(|(_, n)| n).sum()
    };
    let mut rng = sim::Rng::new(0xa4);
    let n = 5_000u64;
    let before = drops(&sim);
    for _ in 0..n {
        let mut f = base.clone();
        match rng.next_u64() % 4 {
            0 => {
                for _ in 0..1 + rng.next_u64() % 3 {
                    let i = (rng.next_u64() % f.len() as u64) as usize;
                    f[i] ^= 1 << (rng.next_u64() % 8);
                }
            }
            1 => f.truncate(14 + (rng.next_u64() % (f.len() as u64 - 14)) as usize),
            2 => {
                for _ in 0..1 + rng.next_u64() % 20 {
                    f.push(rng.next_u64() as u8);
                }
            }
            _ => {
                // AH next header / payload length.
                let i = 34 + (rng.next_u64() % 2) as usize;
                f[i] = rng.next_u64() as u8;
            }
        }
        sim.inject(0, "lan", &f);
    }
    assert_eq!(
        drops(&sim) - before,
        n,
        "every mutated copy dropped and counted"
    );
    assert_eq!(sim.trace.len(), trace_len, "no state change");
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("g"), vec![1]);
}
