//! `show` views rendered from real engine state: two engines built from the
//! SPEC §7 scenario 1 example configs (board/examples), wired back to back
//! on a virtual LAN with a virtual clock, run until the election settles;
//! then each view is taken from each engine's snapshot.

mod common;

use common::scenario1;
use hagw::cli::control::respond;
use hagw::cli::show::answer;
use hagw::engine::{Engine, TxQueue};
use hagw::time::Instant;

fn engine(file: &str, mac_last: u8) -> Engine {
    let path = format!("{}/board/examples/{file}", env!("CARGO_MANIFEST_DIR"));
    let cfg = hagw::config::load(&path).unwrap_or_else(|e| panic!("{path}: {e:?}"));
    Engine::new(&cfg, &[[2, 0, 0, 0, 0, mac_last]], Instant::ZERO).unwrap()
}

/// Run both engines to `until` on one shared segment (port 0 each).
fn run(a: &mut Engine, b: &mut Engine, until: Instant) {
    let mut tx = [TxQueue::with_capacity(64), TxQueue::with_capacity(64)];
    a.set_link(Instant::ZERO, 0, true, &mut tx[0]);
    b.set_link(Instant::ZERO, 0, true, &mut tx[1]);
    let mut now = Instant::ZERO;
    for _ in 0..100_000 {
        // Deliver everything queued, including answers to answers.
        for _ in 0..16 {
            let mut from_a: Vec<Vec<u8>> = tx[0].iter().map(|(_, f)| f.to_vec()).collect();
            let mut from_b: Vec<Vec<u8>> = tx[1].iter().map(|(_, f)| f.to_vec()).collect();
            tx[0].clear();
            tx[1].clear();
            if from_a.is_empty() && from_b.is_empty() {
                break;
            }
            for f in &mut from_a {
                b.handle_frame(now, 0, f, &mut tx[1]);
            }
            for f in &mut from_b {
                a.handle_frame(now, 0, f, &mut tx[0]);
            }
        }
        let next = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) if t <= until => now = t.max(now),
            _ => return,
        }
        a.handle_timeout(now, &mut tx[0]);
        b.handle_timeout(now, &mut tx[1]);
    }
    panic!("simulation did not reach {until:?}");
}

#[test]
fn views_from_real_engines() {
    let mut a = engine("scenario1-basic-a.uci", 1);
    let mut b = engine("scenario1-basic-b.uci", 2);
    let end = Instant::from_secs(30);
    run(&mut a, &mut b, end);
    let (sa, sb) = (a.snapshot(end), b.snapshot(end));

    // Equal priorities: the higher address (B, .2) is master (SPEC §7.1).
    assert_eq!(
        answer("vrrp summary", &sa, end).unwrap(),
        scenario1::summary("backup")
    );
    assert_eq!(
        answer("vrrp summary", &sb, end).unwrap(),
        scenario1::summary("master")
    );

    let ia = answer("vrrp interface lan", &sa, end).unwrap();
    scenario1::assert_backup_detail(&ia);
    let ib = answer("vrrp interface lan", &sb, end).unwrap();
    assert!(ib.contains("\nMaster router: 192.168.42.2\n"), "{ib}");
    assert!(
        ib.contains("Interface state: up, Group 42, State: master\n"),
        "{ib}"
    );

    // Counters agree between the two sides: what B sent, A received.
    let tx_b = sb.groups[0].counters.adverts_tx;
    assert!(tx_b >= 20, "B sent {tx_b} adverts in 30 s");
    assert_eq!(sa.groups[0].counters.adverts_rx, tx_b);
    assert!(ia.contains(&format!("Adverts received: {tx_b}, ")), "{ia}");

    // Metrics: state numbers as documented (1 backup, 2 master).
    let ma = answer("metrics", &sa, end).unwrap();
    let mb = answer("metrics", &sb, end).unwrap();
    assert!(ma.contains(&scenario1::state_metric(1)), "{ma}");
    assert!(mb.contains(&scenario1::state_metric(2)), "{mb}");
    assert!(mb.contains(&format!(
        "\nhagw_vrrp_adverts_sent_total{{group=\"lan_gw\",interface=\"lan\",vrid=\"42\"}} {tx_b}\n"
    )));
    assert!(ma.contains(
        "hagw_interface_rx_frames_total{interface=\"lan\",device=\"lan0\",role=\"lan\"} "
    ));

    // Interfaces: the port and its counters.
    let pa = answer("interfaces", &sa, end).unwrap();
    assert!(pa.starts_with("Interface lan (device lan0, role lan): up\n  MAC 02:00:00:00:00:01, address 192.168.42.1/24\n"), "{pa}");
    let rx = sa.ports[0].rx_frames;
    assert!(rx >= tx_b, "{pa}");
    assert!(pa.contains(&format!("  rx: {rx} frames, ")), "{pa}");

    // JSON of every view parses as one document; respond frames it.
    for view in [
        "vrrp summary",
        "vrrp interface lan",
        "vrrp",
        "interfaces",
        "metrics",
    ] {
        let r = respond(&format!("{view} --json"), &sb, end);
        assert!(r.starts_with(b"ok\n{\n"), "{view}");
        assert!(r.ends_with(b"\n}\n"), "{view}");
    }
}
