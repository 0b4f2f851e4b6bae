//! hagw as a gateway on real interfaces (issue 10), checked with the tools a
//! user runs: curl, ping, traceroute, nc and small python3 servers. One
//! router (board/examples/scenario5-stateful-a.uci, SPEC §6) between a
//! client 192.168.10.100 and a server 10.0.0.100 (tests/netns/gateway.rs).
//! Needs root, curl, traceroute, nc (netcat-openbsd) and /usr/bin/python3.

mod netns;
use netns::gateway::{CLIENT, LAN_VIP, SERVER, WAN_VIP, gateway};
use netns::traffic::*;
use netns::*;
use std::time::Duration;

#[test]
fn gateway_forwards_nats_filters_and_answers_like_a_router() {
    if skip() || tools_missing() {
        return;
    }
    let mut lab = Lab::new("dataplane");
    let mut g = gateway(&mut lab, &board("scenario5-stateful-a.uci"), None);
    lab.start(&mut g.a);
    expect_state(&lab, &g.a, "lan_gw", "master", Duration::from_secs(10));
    expect_state(&lab, &g.a, "wan_gw", "master", Duration::from_secs(10));

    // Ping through hagw.
    let o = lab.exec(
        &g.client,
        &["ping", "-c", "3", "-i", "0.2", "-w", "5", SERVER],
    );
    assert!(o.status.success(), "ping server: {}", text(&o));

    // HTTP download of 20 MB; the server sees the WAN VIP as the source.
    let (o, intact, srv) = http_download(&mut lab, &g.client, &g.server, SERVER, 20);
    assert!(o.status.success(), "curl: {}", text(&o));
    assert!(intact, "download intact");
    let log = lab.proc(srv).log_text();
    assert!(
        log.contains(&format!("{WAN_VIP} - -")),
        "server saw the WAN VIP: {log}"
    );

    // UDP request/response through SNAT. With conntrack sync configured,
    // node 1 allocates from the lower half of 1024-65535 (SPEC §4a): a
    // source port there is kept, one from the upper half is moved into it.
    lab.spawn(&g.server, "udp", &[PYTHON, "-c", UDP_ECHO, "5353"]);
    std::thread::sleep(Duration::from_millis(300));
    let o = lab.exec(&g.client, &[PYTHON, "-c", UDP_ASK, SERVER, "5353", "20000"]);
    assert_eq!(text(&o).trim(), format!("{WAN_VIP}:20000"), "UDP via SNAT");
    let o = lab.exec(&g.client, &[PYTHON, "-c", UDP_ASK, SERVER, "5353", "40000"]);
    let seen = text(&o);
    let port: u16 = seen
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("UDP answer: {seen}"));
    assert!((1024..=33279).contains(&port), "node 1's half: {seen}");

    // traceroute: the first hop is the router's own LAN address.
    let o = lab.exec(
        &g.client,
        &["traceroute", "-n", "-q", "1", "-w", "2", "-m", "3", SERVER],
    );
    let t = text(&o);
    let hops: Vec<&str> = t.lines().skip(1).collect();
    assert!(
        hops.first().is_some_and(|l| l.contains("192.168.10.2")),
        "hop 1 is hagw: {t}"
    );
    assert!(
        hops.get(1).is_some_and(|l| l.contains(SERVER)),
        "hop 2 is the server: {t}"
    );

    // An unsolicited connection from the WAN to a LAN host: dropped by
    // wan_in (default drop), counted.
    sh(&[
        "ip",
        "-n",
        &g.server,
        "route",
        "add",
        "192.168.10.0/24",
        "via",
        WAN_VIP,
    ]);
    let fw0 = drops(&g.a, "fw_drop");
    let o = lab.exec(&g.server, &["nc", "-z", "-w", "2", CLIENT, "5001"]);
    assert!(
        !o.status.success(),
        "unsolicited connection refused by hagw"
    );
    assert!(drops(&g.a, "fw_drop") > fw0, "counted as fw_drop");

    // DNAT: the server reaches the client's port 22 through 10.0.0.1:2222,
    // and hairpin: the client reaches itself through the WAN VIP.
    lab.spawn(&g.client, "sshd", &["nc", "-k", "-l", "22"]);
    std::thread::sleep(Duration::from_millis(300));
    let o = lab.exec(&g.server, &["nc", "-z", "-w", "3", WAN_VIP, "2222"]);
    assert!(
        o.status.success(),
        "port forward from the WAN: {}",
        text(&o)
    );
    let o = lab.exec(&g.client, &["nc", "-z", "-w", "3", WAN_VIP, "2222"]);
    assert!(o.status.success(), "hairpin from the LAN: {}", text(&o));

    // A mid-stream TCP segment with no session is dropped and counted.
    let inv0 = drops(&g.a, "ct_invalid");
    let mac = |ns: &str, ifname: &str| -> [u8; 6] {
        let out = sh(&["ip", "-n", ns, "-br", "link", "show", ifname]);
        let m = out.split_whitespace().nth(2).unwrap_or("").to_string();
        let mut b = [0u8; 6];
        for (k, x) in m.split(':').enumerate().take(6) {
            b[k] = u8::from_str_radix(x, 16).unwrap_or(0);
        }
        b
    };
    let frame = tcp_ack_frame(mac(&g.a.ns, "lan0"), mac(&g.client, "eth0"));
    send_frames(&g.client, "eth0", &[frame], 3);
    wait_for(Duration::from_secs(3), || {
        drops(&g.a, "ct_invalid") >= inv0 + 3
    })
    .expect("mid-stream segments counted as ct_invalid");

    // The router answers ping on both VIPs.
    let o = lab.exec(&g.client, &["ping", "-c", "1", "-w", "3", LAN_VIP]);
    assert!(o.status.success(), "{}", text(&o));
    let o = lab.exec(&g.client, &["ping", "-c", "1", "-w", "3", WAN_VIP]);
    assert!(o.status.success(), "{}", text(&o));

    // PMTU: hagw's WAN link shrinks to 1400 bytes; an upload from the
    // client (DF, MSS 1460 from the server) gets fragmentation-needed and
    // completes with the right checksum.
    sh(&["ip", "-n", &g.a.ns, "link", "set", "wan0", "mtu", "1400"]);
    std::thread::sleep(Duration::from_millis(1500)); // hagw reads the MTU at its link poll
    let up = lab.dir.join("upload");
    let up_s = up.to_string_lossy().into_owned();
    let sink = format!("nc -l -N 9000 > {up_s}");
    let r = lab.spawn(&g.server, "sink", &["sh", "-c", &sink]);
    std::thread::sleep(Duration::from_millis(300));
    let fsrc = lab.dir.join("www").join("blob");
    let send = format!("nc -N -w 10 {SERVER} 9000 < {}", fsrc.display());
    let frag0 = drops(&g.a, "frag_needed");
    let o = lab.exec(&g.client, &["sh", "-c", &send]);
    assert!(o.status.success(), "upload: {}", text(&o));
    lab.proc(r).wait_exit(Duration::from_secs(20));
    assert_eq!(
        sha256(&up),
        sha256(&fsrc),
        "upload intact across the smaller MTU"
    );
    assert!(
        drops(&g.a, "frag_needed") > frag0,
        "PMTU discovery used ICMP frag-needed"
    );
}

/// An Ethernet frame client → router carrying a TCP ACK of a connection
/// that never started (client:40404 → server:80).
fn tcp_ack_frame(dst: [u8; 6], src: [u8; 6]) -> Vec<u8> {
    let sum = |b: &[u8], mut acc: u32| {
        for c in b.chunks(2) {
            acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc
    };
    let (s, d) = ([192u8, 168, 10, 100], [10u8, 0, 0, 100]);
    let mut tcp = vec![
        0x9e, 0x14, 0, 80, 0, 0, 0, 9, 0, 0, 0, 9, 0x50, 0x10, 0x01, 0xf6, 0, 0, 0, 0,
    ];
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&s);
    pseudo.extend_from_slice(&d);
    pseudo.extend_from_slice(&[0, 6, 0, 20]);
    let c = !(sum(&tcp, sum(&pseudo, 0)) as u16);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let mut ip = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
    ip.extend_from_slice(&s);
    ip.extend_from_slice(&d);
    let c = !(sum(&ip, 0) as u16);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&tcp);
    f
}
