//! Untrusted bytes never panic the engine: valid frames (adverts v2/v3,
//! ARP, echo) mutated at random (byte flips, truncation, extension, random
//! garbage) are fed to a master and a backup engine.

mod sim;

use hagw::engine::{Engine, TxQueue};
use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState;
use sim::config::ConfigBuilder;
use sim::{AdvertFrame, Rng};

#[test]
fn mutated_frames_never_panic() {
    let mk = |n: u16, prio: u8| {
        ConfigBuilder::new(n)
            .interface("lan", &format!("192.168.42.{}/24", n + 1))
            .group("g", "lan", 42, &["192.168.42.50/24"], |g| g.priority = prio)
            .group("g3", "lan", 43, &["192.168.42.51/24"], |g| {
                g.priority = prio;
                g.version = 3;
                g.advert_interval_cs = 10;
            })
            .build()
    };
    let mut now = Instant::from_secs(1);
    let mut master = Engine::new(&mk(1, 250), &[[2, 0, 0, 0, 0, 1]], now).unwrap();
    let mut backup = Engine::new(&mk(2, 10), &[[2, 0, 0, 0, 0, 2]], now).unwrap();
    let mut tx = TxQueue::with_capacity(64);
    // Make `master` master: let its timers run alone.
    for _ in 0..100 {
        now = now + Duration::from_millis(100);
        master.handle_timeout(now, &mut tx);
        backup.handle_timeout(now, &mut tx);
        tx.clear();
    }
    assert_eq!(master.snapshot(now).groups[0].state, VrrpState::Master);
    let mut v3 = AdvertFrame::v2("192.168.42.9", 43, 100, &["192.168.42.51"]);
    v3.version = 3;
    v3.interval = 10;
    let seeds: Vec<Vec<u8>> = vec![
        AdvertFrame::v2("192.168.42.9", 42, 100, &["192.168.42.50"]).build(),
        v3.build(),
        sim::arp_request("192.168.42.77", "192.168.42.50"),
        sim::arp_request("192.168.42.77", "192.168.42.2"),
    ];
    let mut rng = Rng::new(0xfeed);
    let mut fed = 0u64;
    for round in 0..40_000u32 {
        let base = &seeds[round as usize % seeds.len()];
        let mut f = base.clone();
        match rng.next_u64() % 4 {
            0 => {
                for _ in 0..1 + rng.next_u64() % 4 {
                    let i = (rng.next_u64() % f.len() as u64) as usize;
                    f[i] ^= 1 << (rng.next_u64() % 8);
                }
            }
            1 => f.truncate((rng.next_u64() % (f.len() as u64 + 1)) as usize),
            2 => {
                for _ in 0..rng.next_u64() % 40 {
                    f.push(rng.next_u64() as u8);
                }
                // make the IP total length cover the tail sometimes
                if f.len() > 18 && f[12..14] == [8, 0] && rng.next_u64() % 2 == 0 {
                    let tl = (f.len() - 14) as u16;
                    f[16..18].copy_from_slice(&tl.to_be_bytes());
                }
            }
            _ => {
                let n = (rng.next_u64() % 120) as usize;
                f = (0..n).map(|_| rng.next_u64() as u8).collect();
                if n > 14 {
                    f[12] = 8;
                    f[13] = (rng.next_u64() % 8) as u8;
                }
            }
        }
        now = now + Duration::from_micros(50);
        for e in [&mut master, &mut backup] {
            e.handle_frame(now, 0, &mut f.clone(), &mut tx);
            e.handle_frame(now, 5, &mut f.clone(), &mut tx); // no such port: ignored
            e.handle_timeout(now, &mut tx);
            while e.poll_event().is_some() {}
        }
        tx.clear();
        fed += 1;
    }
    for e in [&master, &backup] {
        let s = e.snapshot(now);
        assert_eq!(s.ports[0].rx_frames, fed);
        let drops: u64 = s.ports[0].drops.iter().map(|(_, n)| n).sum();
        assert!(
            drops > fed / 2,
            "most garbage is dropped and counted: {drops}/{fed}"
        );
    }
    // 2 s of garbage at 50 µs steps never removed the real master.
    assert_eq!(master.snapshot(now).groups[0].state, VrrpState::Master);
}
