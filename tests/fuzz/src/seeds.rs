//! The seed corpus (tests/fuzz/corpus/<target>/), written by
//! `HAGW_FUZZ_WRITE_SEEDS=1 cargo test --test fuzz_regressions write_seeds -- --ignored`.
//! Only the main test suite compiles this file (it uses the keepalived
//! vectors and board examples from the repo). Seeds are built by running
//! the real engine, so NAT ports, sync frames and BFD packets are the ones
//! the engine answers to.

use crate::harness::gateway::{
    self, LAN_HOST, LAN_HOST_MAC, REMOTE, VIP_LAN, VIP_WAN, WAN_GW, WAN_GW_MAC, WAN_HOST,
    WAN_HOST_MAC,
};
use crate::harness::input::Writer;
use crate::harness::packet::{
    TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, arp, echo_request, ether, ipv4, tcp, udp,
};
use crate::harness::{bfd, engine, sync, vrrp};
use hagw::bfd::SessionConfig;
use hagw::bfd::session::Session;
use hagw::engine::{Engine, TxQueue, Verdict};
use hagw::sync::auth::MacKey;
use hagw::sync::frame;
use hagw::time::{Duration, Instant};
use hagw::wire::build::{self, AdvertHeader};
use hagw::wire::ethernet::EthernetAddress;
use hagw::wire::vrrp::{ChecksumMode, VrrpRepr};
use std::net::Ipv4Addr;

pub type Seeds = Vec<(String, Vec<u8>)>;

fn root() -> String {
    env!("CARGO_MANIFEST_DIR").to_string()
}

/// Frames of a keepalived capture (tests/vectors/keepalived/NAME.hex).
pub fn keepalived(name: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/tests/vectors/keepalived/{name}.hex", root());
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            (0..l.len() / 2)
                .filter_map(|i| u8::from_str_radix(l.get(2 * i..2 * i + 2)?, 16).ok())
                .collect()
        })
        .collect()
}

/// A v2/v3 advert from `src` (MAC `smac`) for `vrid`.
pub fn advert(
    smac: [u8; 6],
    src: Ipv4Addr,
    vrid: u8,
    prio: u8,
    v3: bool,
    vips: &[Ipv4Addr],
    pass: &[u8],
) -> Vec<u8> {
    let repr = VrrpRepr {
        version: if v3 { 3 } else { 2 },
        vrid,
        priority: prio,
        advert_interval: if v3 { 10 } else { 1 },
        auth_type: u8::from(!pass.is_empty()),
        auth_data: VrrpRepr::plaintext_auth_data(pass),
        addresses: heapless::Vec::from_slice(vips).unwrap_or_default(),
    };
    let mut buf = [0u8; 1518];
    let hdr = AdvertHeader::multicast(EthernetAddress(smac), src, 1);
    let n = build::vrrp_advert(&mut buf, &hdr, &repr, ChecksumMode::Rfc);
    buf[..n].to_vec()
}

/// The adverts of node 2 (priority 250) for the gateway's LAN or WAN group.
fn peer_advert(lan: bool) -> Vec<u8> {
    let peer = [2, 0, 0, 0, 2, 1];
    if lan {
        advert(
            peer,
            Ipv4Addr::new(192, 168, 10, 3),
            51,
            250,
            false,
            &[VIP_LAN],
            b"",
        )
    } else {
        advert(
            peer,
            Ipv4Addr::new(10, 0, 0, 3),
            52,
            250,
            false,
            &[VIP_WAN],
            b"",
        )
    }
}

/// Hand `f` to `e` on `port`, record it, and return the frame as forwarded.
fn feed(
    e: &mut Engine,
    tx: &mut TxQueue,
    now: Instant,
    w: &mut Writer,
    port: usize,
    f: Vec<u8>,
) -> Option<Vec<u8>> {
    engine::op_frame(w, port, &f);
    let mut f = f;
    gateway::fix_checksums(&mut f);
    let v = e.handle_frame(now, port, &mut f, tx);
    tx.clear();
    matches!(v, Verdict::Forward(_)).then_some(f)
}

fn nat_port(f: &[u8]) -> u16 {
    u16::from_be_bytes([f[34], f[35]])
}

/// A master forwarding TCP, UDP, ICMP (echo and errors), fragments and a
/// port forward; then the sessions expire.
fn engine_nat() -> Vec<u8> {
    let (mut e, mut tx, now) = engine::master();
    let mut w = Writer::default();
    let (lan, wan) = (gateway::mac(0), gateway::mac(1));
    let l2 = |f: &[u8]| ether(lan, LAN_HOST_MAC, 0x0800, f);
    let w2 = |f: &[u8]| ether(wan, WAN_GW_MAC, 0x0800, f);
    let gw_arp = arp(1, WAN_GW_MAC, WAN_GW, [0; 6], VIP_WAN);
    feed(
        &mut e,
        &mut tx,
        now,
        &mut w,
        1,
        ether([0xff; 6], WAN_GW_MAC, 0x0806, &gw_arp),
    );
    let who = arp(1, LAN_HOST_MAC, LAN_HOST, [0; 6], VIP_LAN);
    feed(
        &mut e,
        &mut tx,
        now,
        &mut w,
        0,
        ether([0xff; 6], LAN_HOST_MAC, 0x0806, &who),
    );
    // UDP out and back, then an ICMP port unreachable quoting it.
    let u = udp(LAN_HOST, 5353, REMOTE, 53, b"query");
    let out = feed(&mut e, &mut tx, now, &mut w, 0, l2(&u)).unwrap_or_default();
    assert!(out.len() > 36, "the seed's UDP datagram is forwarded");
    let np = nat_port(&out);
    let back = udp(REMOTE, 53, VIP_WAN, np, b"answer");
    feed(&mut e, &mut tx, now, &mut w, 1, w2(&back));
    if out.len() > 14 {
        let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&out[14..out.len().min(14 + 28)]);
        let err = ipv4(REMOTE, VIP_WAN, 1, 60, 3, false, &icmp);
        let back = feed(&mut e, &mut tx, now, &mut w, 1, w2(&err));
        assert!(
            back.is_some(),
            "the seed's ICMP error is translated back to the LAN"
        );
    }
    // TCP handshake, data, FIN.
    let syn = tcp(LAN_HOST, 40000, REMOTE, 443, TCP_SYN, 100, 0, &[]);
    let out = feed(&mut e, &mut tx, now, &mut w, 0, l2(&syn)).unwrap_or_default();
    assert!(out.len() > 36, "the seed's SYN is forwarded");
    let np = nat_port(&out);
    let f = |fl, s, a, d: &[u8]| w2(&tcp(REMOTE, 443, VIP_WAN, np, fl, s, a, d));
    let g = |fl, s, a, d: &[u8]| l2(&tcp(LAN_HOST, 40000, REMOTE, 443, fl, s, a, d));
    feed(
        &mut e,
        &mut tx,
        now,
        &mut w,
        1,
        f(TCP_SYN | TCP_ACK, 900, 101, &[]),
    );
    feed(&mut e, &mut tx, now, &mut w, 0, g(TCP_ACK, 101, 901, &[]));
    feed(
        &mut e,
        &mut tx,
        now,
        &mut w,
        0,
        g(TCP_ACK | TCP_PSH, 101, 901, b"GET /"),
    );
    feed(
        &mut e,
        &mut tx,
        now,
        &mut w,
        1,
        f(TCP_ACK | TCP_PSH, 901, 106, b"200 OK"),
    );
    feed(
        &mut e,
        &mut tx,
        now,
        &mut w,
        0,
        g(TCP_FIN | TCP_ACK, 106, 907, &[]),
    );
    feed(
        &mut e,
        &mut tx,
        now,
        &mut w,
        1,
        f(TCP_FIN | TCP_ACK, 907, 107, &[]),
    );
    // Echo through and to the VIP; the port forward; a fragmented datagram.
    let ping = echo_request(LAN_HOST, REMOTE, 9, 1, 64);
    feed(&mut e, &mut tx, now, &mut w, 0, l2(&ping));
    let ping = echo_request(REMOTE, VIP_WAN, 9, 1, 64);
    feed(&mut e, &mut tx, now, &mut w, 1, w2(&ping));
    let syn = tcp(WAN_HOST, 41000, VIP_WAN, 2222, TCP_SYN, 5, 0, &[]);
    let _ = WAN_HOST_MAC;
    let fwd = feed(&mut e, &mut tx, now, &mut w, 1, w2(&syn));
    assert!(fwd.is_some(), "the seed's port-forwarded SYN goes through");
    let big = udp(LAN_HOST, 7000, REMOTE, 7001, &[0x5a; 64]);
    let (mut a, mut b) = (big[..20 + 32].to_vec(), big[..20].to_vec());
    a[2..4].copy_from_slice(&52u16.to_be_bytes());
    a[6] = 0x20; // MF
    b.extend_from_slice(&big[52..]);
    let bl = b.len() as u16;
    b[2..4].copy_from_slice(&bl.to_be_bytes());
    b[6] = 0;
    b[7] = 4; // offset 32 bytes
    feed(&mut e, &mut tx, now, &mut w, 0, l2(&a));
    feed(&mut e, &mut tx, now, &mut w, 0, l2(&b));
    engine::op_step(&mut w, 100);
    engine::op_jump(&mut w, 20);
    w.0
}

/// keepalived adverts for other VRIDs and a higher-priority peer's adverts
/// for ours, on LAN and WAN, with time passing.
fn engine_vrrp() -> Vec<u8> {
    let mut w = Writer::default();
    for f in keepalived("v2_3vips").into_iter().take(2) {
        engine::op_frame(&mut w, 0, &f);
    }
    for _ in 0..3 {
        let a = peer_advert(true);
        engine::op_frame(&mut w, 0, &a);
        let a = peer_advert(false);
        engine::op_frame(&mut w, 1, &a);
        engine::op_step(&mut w, 100);
    }
    w.0
}

/// A master and the input being written for it (for the host seed).
struct Seeder {
    e: Engine,
    tx: TxQueue,
    now: Instant,
    w: Writer,
}

impl Seeder {
    /// `f` on `port` from the wire, as `feed`.
    fn wire(&mut self, port: usize, f: Vec<u8>) -> Option<Vec<u8>> {
        feed(&mut self.e, &mut self.tx, self.now, &mut self.w, port, f)
    }

    /// `f` from `port`'s host TAP, recorded; how many frames left.
    fn host(&mut self, port: usize, f: Vec<u8>) -> usize {
        engine::op_host_frame(&mut self.w, port, &f);
        let mut f = f;
        gateway::fix_checksums(&mut f);
        self.e.handle_host_frame(self.now, port, &f, &mut self.tx);
        let n = self.tx.iter().count();
        self.tx.clear();
        n
    }
}

/// The router's own services through the host TAPs: the kernel asks for
/// a LAN host's MAC and answers its DNS query; it opens a TCP connection
/// from its WAN address and the answer comes back to the TAP; a source
/// that is not the router's is dropped.
fn engine_host() -> Vec<u8> {
    let (e, tx, now) = engine::master();
    let mut s = Seeder {
        e,
        tx,
        now,
        w: Writer::default(),
    };
    let (lan, wan) = (gateway::mac(0), gateway::mac(1));
    let tap = [2, 0, 0, 0, 0x7a, 1];
    let me_lan = Ipv4Addr::new(192, 168, 10, 2);
    let me_wan = Ipv4Addr::new(10, 0, 0, 2);
    let who = arp(1, tap, me_lan, [0; 6], LAN_HOST);
    let n = s.host(0, ether([0xff; 6], tap, 0x0806, &who));
    assert_eq!(n, 1, "the host's ARP request leaves the LAN port");
    let q = udp(LAN_HOST, 5353, me_lan, 53, b"query");
    s.wire(0, ether(lan, LAN_HOST_MAC, 0x0800, &q));
    let a = udp(me_lan, 53, LAN_HOST, 5353, b"answer");
    let n = s.host(0, ether(LAN_HOST_MAC, tap, 0x0800, &a));
    assert_eq!(n, 1, "the host's DNS answer leaves the LAN port");
    let syn = tcp(me_wan, 50000, REMOTE, 80, TCP_SYN, 7, 0, &[]);
    let n = s.host(1, ether(WAN_GW_MAC, tap, 0x0800, &syn));
    assert_eq!(n, 1, "the host's SYN leaves the WAN port");
    let sa = tcp(REMOTE, 80, me_wan, 50000, TCP_SYN | TCP_ACK, 70, 8, &[]);
    s.e.clear_host_frames();
    s.wire(1, ether(wan, WAN_GW_MAC, 0x0800, &sa));
    let n = s.e.host_frames().count();
    assert_eq!(n, 1, "the SYN-ACK goes to the host TAP");
    let spoof = udp(REMOTE, 53, LAN_HOST, 5353, b"spoof");
    let n = s.host(0, ether(LAN_HOST_MAC, tap, 0x0800, &spoof));
    assert_eq!(n, 0, "a source that is not the router's is dropped");
    engine::op_step(&mut s.w, 100);
    s.w.0
}

pub fn engine_seeds() -> Seeds {
    vec![
        ("nat".into(), engine_nat()),
        ("vrrp".into(), engine_vrrp()),
        ("host".into(), engine_host()),
    ]
}

pub fn vrrp_seeds() -> Seeds {
    let mut out = Seeds::new();
    for name in [
        "v2_3vips",
        "v2_noauth",
        "v2_pass",
        "v2_pass_long",
        "v2_unicast",
        "v2_vmac",
        "v3_2vips",
        "v3_unicast",
    ] {
        let mut w = Writer::default();
        for f in keepalived(name).into_iter().take(3) {
            vrrp::op_frame(&mut w, &f);
            vrrp::op_step(&mut w, 50);
        }
        out.push((format!("keepalived_{name}"), w.0));
    }
    let mut w = Writer::default();
    let src = Ipv4Addr::new(192, 168, 42, 9);
    let mac = [2, 0, 0, 0, 0, 9];
    let ip = |d| Ipv4Addr::new(192, 168, 42, d);
    for _ in 0..3 {
        vrrp::op_frame(&mut w, &advert(mac, src, 42, 200, false, &[ip(50)], b""));
        vrrp::op_frame(&mut w, &advert(mac, src, 43, 200, true, &[ip(51)], b""));
        vrrp::op_frame(
            &mut w,
            &advert(mac, src, 44, 200, false, &[ip(52)], b"secret"),
        );
        vrrp::op_frame(&mut w, &advert(mac, src, 45, 200, false, &[ip(53)], b""));
        vrrp::op_step(&mut w, 100);
    }
    vrrp::op_frame(&mut w, &advert(mac, src, 42, 0, false, &[ip(50)], b""));
    vrrp::op_step(&mut w, 255);
    out.push(("groups".into(), w.0));
    out
}

/// What a master peer (node 2) sends on the sync link while sessions come
/// and go, as sealed-datagram operations.
fn sync_seed(keyed: bool) -> Vec<u8> {
    let mut p = gateway::engine_node(2, 200, keyed);
    let mut tx = TxQueue::with_capacity(256);
    let mut now = gateway::START;
    gateway::advance(&mut p, &mut tx, &mut now, Duration::from_secs(4));
    let mut w = Writer::default();
    w.u8(u8::from(keyed));
    let key = keyed.then(|| MacKey::new(gateway::KEY.as_bytes()));
    let mut buf = vec![0u8; 2048];
    let lan = gateway::mac(0);
    for i in 0..12u16 {
        let u = udp(LAN_HOST, 6000 + i, REMOTE, 53, b"q");
        let mut f = ether(lan, LAN_HOST_MAC, 0x0800, &u);
        p.handle_frame(now, 0, &mut f, &mut tx);
        tx.clear();
        now = now + Duration::from_millis(300);
        p.handle_timeout(now, &mut tx);
        p.end_of_turn(now, &mut tx);
        tx.clear();
        while let Some(n) = p.poll_sync_transmit(&mut buf) {
            if let Ok((h, payload)) = frame::open(&buf[..n], key.as_ref()) {
                sync::op_sealed(&mut w, &h, payload);
            }
        }
        sync::op_step(&mut w, 30);
    }
    assert!(w.0.len() > 200, "the seed carries the peer's sync frames");
    w.u8(4).u8(60); // a minute later: the peer's sessions expire
    w.0
}

pub fn sync_seeds() -> Seeds {
    vec![
        ("plain".into(), sync_seed(false)),
        ("keyed".into(), sync_seed(true)),
    ]
}

/// A peer BFD session (100 ms timers) that comes Up with the backup, the
/// master's adverts meanwhile, then silence: fast takeover.
pub fn bfd_seeds() -> Seeds {
    let mut e = gateway::engine(100, false);
    let mut tx = TxQueue::with_capacity(256);
    let cfg = SessionConfig {
        desired_min_tx: Duration::from_millis(100),
        required_min_rx: Duration::from_millis(100),
        detect_mult: 3,
    };
    let mut peer = Session::new(cfg, 0x4242, 7);
    let mut w = Writer::default();
    let mut now = gateway::START;
    let mut buf = [0u8; 64];
    for step in 0..60u32 {
        if step % 20 == 0 {
            let a = peer_advert(true);
            bfd::op_frame(&mut w, 0, &a);
            let mut f = a;
            e.handle_frame(now, 0, &mut f, &mut tx);
        }
        while let Some(n) = e.poll_bfd_transmit(now, &mut buf) {
            let _ = peer.handle_packet(now, &buf[..n], 255);
        }
        if peer.poll_timeout().is_some_and(|t| t <= now) {
            peer.handle_timeout(now);
        }
        while let Some(n) = peer.poll_transmit(now, &mut buf) {
            bfd::op_packet(&mut w, 255, &buf[..n]);
            e.handle_bfd(now, &buf[..n], 255, &mut tx);
        }
        bfd::op_ms(&mut w, 49);
        now = now + Duration::from_millis(50);
        e.handle_timeout(now, &mut tx);
        tx.clear();
    }
    assert_eq!(
        peer.state(),
        hagw::bfd::State::Up,
        "the seed's BFD session comes up"
    );
    for _ in 0..5 {
        w.u8(2).u8(1); // 200 ms of silence each
    }
    vec![("takeover".into(), w.0)]
}

pub fn config_seeds() -> Seeds {
    let mut out = Seeds::new();
    let mut dirs = vec![
        format!("{}/board/examples", root()),
        format!("{}/tests/fixtures", root()),
    ];
    dirs.push(format!("{}/tests/vectors/keepalived", root()));
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut names: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        names.sort();
        for p in names {
            let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
            if ext == "uci" || ext == "conf" {
                let name = p
                    .file_name()
                    .and_then(|x| x.to_str())
                    .unwrap_or("x")
                    .to_string();
                out.push((name, std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out
}

pub fn control_seeds() -> Seeds {
    let mut out = Seeds::new();
    let views = hagw::cli::show::VIEWS.split(" (each").next().unwrap_or("");
    for v in views.split(", ") {
        let v = v.replace("NAME", "lan");
        let mut words: Vec<String> = Vec::new();
        for alt in v.split('|') {
            // "conntrack-sync status|statistics|..." → each alternative
            let line = if words.is_empty() {
                words = alt.split(' ').map(String::from).collect();
                alt.to_string()
            } else {
                format!("{} {alt}", words[0])
            };
            out.push((line.replace(' ', "_"), format!("{line}\n").into_bytes()));
            out.push((
                format!("{}_json", line.replace(' ', "_")),
                format!("{line} --json\n").into_bytes(),
            ));
        }
    }
    out
}

/// Netlink datagrams as the kernel sends them: link and address
/// notifications (RTM_NEWLINK 16, RTM_DELADDR 21 with attributes), an
/// overrun, and the acknowledgement (NLMSG_ERROR 2) of request 7.
pub fn netlink_seeds() -> Seeds {
    use crate::harness::netlink::{input, message};
    let ifinfo = [0u8; 16];
    let mut ifaddr = vec![2, 24, 0, 0, 3, 0, 0, 0];
    ifaddr.extend_from_slice(&[8, 0, 1, 0, 192, 168, 10, 2]); // IFA_ADDRESS
    let mut notes = message(16, 0, &ifinfo);
    notes.extend(message(21, 0, &ifaddr));
    notes.extend(message(24, 0, &[0; 12]));
    let mut err = (-17i32).to_ne_bytes().to_vec();
    err.extend(message(20, 7, &ifaddr));
    let mut acks = message(2, 6, &[0; 20]);
    acks.extend(message(2, 7, &err));
    vec![
        ("notifications".into(), input(0, &notes)),
        ("overrun".into(), input(0, &message(4, 0, &[]))),
        ("ack".into(), input(7, &acks)),
    ]
}

/// Every target's seeds, by target name.
pub fn all() -> Vec<(&'static str, Seeds)> {
    vec![
        ("engine", engine_seeds()),
        ("vrrp", vrrp_seeds()),
        ("sync", sync_seeds()),
        ("bfd", bfd_seeds()),
        ("config", config_seeds()),
        ("control", control_seeds()),
        ("netlink", netlink_seeds()),
    ]
}
