//! Real keepalived (2.2.7) adverts and gratuitous ARPs, captured by
//! tests/vectors/keepalived/capture.sh, decoded with our parsers, checked
//! against the configs that produced them, and re-encoded with our
//! builders to the identical bytes. Then every byte is corrupted in turn:
//! parsing never panics and a corrupted checksum-covered byte is reported
//! as the right error (mostly `Checksum`).

use hagw::wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use hagw::wire::build::{self, AdvertHeader};
use hagw::wire::ethernet::{EthernetAddress, EthernetFrame, ethertype};
use hagw::wire::ipv4::{Ipv4Packet, Ipv4Repr, protocol};
use hagw::wire::vrrp::{ChecksumMode, VrrpError, VrrpRepr, parse_advert_frame};
use hagw::wire::{Error, checksum};
use std::net::Ipv4Addr;

/// What each config says (tests/vectors/keepalived/NAME.conf).
struct Expect {
    name: &'static str,
    version: u8,
    vrid: u8,
    priority: u8,
    /// v2 seconds, v3 centiseconds.
    interval: u16,
    auth_type: u8,
    auth_data: [u8; 8],
    vips: &'static [Ipv4Addr],
    /// `unicast_peer`: adverts go to this MAC/IP instead of 224.0.0.18.
    peer: Option<(EthernetAddress, Ipv4Addr)>,
    /// `use_vmac`: sent from 00:00:5e:00:01:VRID instead of the interface MAC.
    vmac: bool,
}

impl Expect {
    fn mac(&self) -> EthernetAddress {
        if self.vmac {
            EthernetAddress::vrrp_virtual(self.vrid)
        } else {
            KA_MAC
        }
    }
}

const KA_MAC: EthernetAddress = EthernetAddress([0x02, 0x68, 0x67, 0x00, 0x00, 0x01]);
const KA_IP: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
const PEER: (EthernetAddress, Ipv4Addr) = (
    EthernetAddress([0x02, 0x68, 0x67, 0x00, 0x00, 0x02]),
    Ipv4Addr::new(10, 99, 0, 2),
);

const fn ip(d: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 99, 0, d)
}

const EXPECT: &[Expect] = &[
    Expect {
        name: "v2_noauth",
        version: 2,
        vrid: 51,
        priority: 150,
        interval: 1,
        auth_type: 0,
        auth_data: [0; 8],
        vips: &[ip(100)],
        peer: None,
        vmac: false,
    },
    Expect {
        name: "v2_pass",
        version: 2,
        vrid: 52,
        priority: 100,
        interval: 1,
        auth_type: 1,
        auth_data: *b"secret12",
        vips: &[ip(101)],
        peer: None,
        vmac: false,
    },
    Expect {
        name: "v2_pass_long",
        version: 2,
        vrid: 55,
        priority: 250,
        interval: 2,
        auth_type: 1,
        // auth_pass longpassword: keepalived sends the first 8 bytes.
        auth_data: *b"longpass",
        vips: &[ip(105)],
        peer: None,
        vmac: false,
    },
    Expect {
        name: "v2_3vips",
        version: 2,
        vrid: 53,
        priority: 200,
        interval: 1,
        auth_type: 0,
        auth_data: [0; 8],
        vips: &[ip(110), ip(111), ip(112)],
        peer: None,
        vmac: false,
    },
    Expect {
        name: "v3_2vips",
        version: 3,
        vrid: 54,
        priority: 120,
        // advert_int 0.1 s
        interval: 10,
        auth_type: 0,
        auth_data: [0; 8],
        vips: &[ip(120), ip(121)],
        peer: None,
        vmac: false,
    },
    Expect {
        name: "v2_unicast",
        version: 2,
        vrid: 56,
        priority: 110,
        interval: 1,
        auth_type: 0,
        auth_data: [0; 8],
        vips: &[ip(130)],
        peer: Some(PEER),
        vmac: false,
    },
    Expect {
        name: "v3_unicast",
        version: 3,
        vrid: 57,
        priority: 130,
        interval: 100,
        auth_type: 0,
        auth_data: [0; 8],
        vips: &[ip(131)],
        peer: Some(PEER),
        vmac: false,
    },
    Expect {
        name: "v2_vmac",
        version: 2,
        vrid: 58,
        priority: 140,
        interval: 1,
        auth_type: 0,
        auth_data: [0; 8],
        vips: &[ip(140)],
        peer: None,
        vmac: true,
    },
];

fn load(name: &str) -> Vec<Vec<u8>> {
    let path = format!(
        "{}/tests/vectors/keepalived/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        text.starts_with("# keepalived: Keepalived v"),
        "{path}: no version line"
    );
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            assert!(l.len() % 2 == 0, "{path}: odd hex line");
            (0..l.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

/// Full receive path: Ethernet -> IPv4 (checked, checksum) -> VRRP.
fn decode_advert(frame: &[u8]) -> Result<(Ipv4Repr, VrrpRepr, ChecksumMode), String> {
    let eth = EthernetFrame::new_checked(frame).map_err(|e| format!("eth {e}"))?;
    if eth.ethertype() != ethertype::IPV4 {
        return Err("ethertype".into());
    }
    let ipp = Ipv4Packet::new_checked(eth.payload()).map_err(|e| format!("ip {e}"))?;
    let ip = Ipv4Repr::parse(&ipp).map_err(|e| format!("ip {e}"))?;
    if ip.protocol != protocol::VRRP {
        return Err("protocol".into());
    }
    let (v, mode) = VrrpRepr::parse_with_mode(ipp.payload(), ip.src_addr, ip.dst_addr)
        .map_err(|e| format!("vrrp {e:?}"))?;
    Ok((ip, v, mode))
}

fn adverts(frames: &[Vec<u8>]) -> Vec<&Vec<u8>> {
    frames
        .iter()
        .filter(|f| f.get(12..14) == Some(&[0x08, 0x00][..]))
        .collect()
}

fn garps(frames: &[Vec<u8>]) -> Vec<&Vec<u8>> {
    frames
        .iter()
        .filter(|f| f.get(12..14) == Some(&[0x08, 0x06][..]))
        .collect()
}

#[test]
fn adverts_decode_to_config_values() {
    for ex in EXPECT {
        let frames = load(ex.name);
        let ads = adverts(&frames);
        assert!(
            ads.len() >= 2,
            "{}: need adverts and the priority-0 one",
            ex.name
        );
        let mut last_prio = None;
        let mut ids = Vec::new();
        for f in &ads {
            let eth = EthernetFrame::new_checked(&f[..]).unwrap();
            let (dst_mac, dst_ip) = ex.peer.unwrap_or((EthernetAddress::VRRP_MULTICAST, GROUP));
            assert_eq!(eth.dst_addr(), dst_mac, "{}", ex.name);
            if ex.peer.is_none() {
                assert_eq!(eth.dst_addr().to_string(), "01:00:5e:00:00:12");
            }
            assert_eq!(eth.src_addr(), ex.mac(), "{}", ex.name);
            let (ip, v, mode) = decode_advert(f).unwrap_or_else(|e| panic!("{}: {e}", ex.name));
            assert_eq!(ip.ttl, 255);
            assert_eq!(ip.dst_addr, dst_ip);
            assert_eq!(ip.src_addr, KA_IP);
            assert_eq!(ip.tos, 0xc0, "keepalived sets TOS 0xc0");
            assert!(!ip.dont_frag && !ip.more_frags && ip.frag_offset == 0);
            assert_eq!(v.version, ex.version, "{}", ex.name);
            assert_eq!(v.vrid, ex.vrid);
            assert_eq!(v.advert_interval, ex.interval, "{}", ex.name);
            assert_eq!(v.auth_type, ex.auth_type);
            assert_eq!(v.auth_data, ex.auth_data, "{}", ex.name);
            assert_eq!(&v.addresses[..], ex.vips, "{}", ex.name);
            assert!(
                v.priority == ex.priority || v.priority == 0,
                "{}: prio {}",
                ex.name,
                v.priority
            );
            // keepalived 2.2.7 sends the RFC 5798 pseudo-header checksum for v3.
            let want_mode = if ex.version == 3 {
                ChecksumMode::Rfc
            } else {
                ChecksumMode::Legacy
            };
            assert_eq!(mode, want_mode, "{}", ex.name);
            // The one-call receive path agrees.
            let rx = parse_advert_frame(f).unwrap();
            assert_eq!(
                (rx.src_mac, rx.src_ip, rx.dst_ip, rx.ttl),
                (ex.mac(), KA_IP, dst_ip, 255)
            );
            assert_eq!((&rx.repr, rx.checksum_mode), (&v, mode));
            last_prio = Some(v.priority);
            ids.push(ip.ident);
        }
        assert_eq!(
            last_prio,
            Some(0),
            "{}: last advert (on SIGTERM) has priority 0",
            ex.name
        );
        let n_zero = ads
            .iter()
            .filter(|f| decode_advert(f).unwrap().1.priority == 0)
            .count();
        assert_eq!(n_zero, 1, "{}", ex.name);
        // keepalived numbers IP ids 1, 2, 3, ... per instance.
        assert!(
            ids.windows(2).all(|w| w[1] > w[0]),
            "{}: ids {ids:?}",
            ex.name
        );
    }
}

#[test]
fn adverts_reencode_byte_for_byte() {
    for ex in EXPECT {
        let frames = load(ex.name);
        for f in adverts(&frames) {
            let (ip, v, mode) = decode_advert(f).unwrap();
            // The VRRP message alone.
            let mut msg = [0u8; 256];
            let n = v.emit(&mut msg, ip.src_addr, ip.dst_addr, mode);
            assert_eq!(&msg[..n], &f[34..], "{}: VRRP message", ex.name);
            // The whole frame, from what the engine knows + the IP id.
            let src_mac = EthernetFrame::new_checked(&f[..]).unwrap().src_addr();
            let hdr = match ex.peer {
                None => AdvertHeader::multicast(src_mac, ip.src_addr, ip.ident),
                Some((mac, peer)) => {
                    AdvertHeader::unicast(src_mac, ip.src_addr, mac, peer, ip.ident)
                }
            };
            let mut buf = [0u8; 1518];
            let n = build::vrrp_advert(&mut buf, &hdr, &v, ChecksumMode::Rfc);
            assert_eq!(&buf[..n], &f[..], "{}: whole frame", ex.name);
        }
    }
}

#[test]
fn v3_legacy_emit_differs_only_in_checksum_and_is_accepted() {
    let frames = load("v3_2vips");
    let f = adverts(&frames)[0];
    let (ip, v, _) = decode_advert(f).unwrap();
    let mut msg = [0u8; 64];
    let n = v.emit(&mut msg, ip.src_addr, ip.dst_addr, ChecksumMode::Legacy);
    assert_eq!(n, f.len() - 34);
    assert_eq!(&msg[..6], &f[34..40]);
    assert_ne!(&msg[6..8], &f[40..42]);
    assert_eq!(&msg[8..n], &f[42..]);
    assert!(checksum::verify(&msg[..n]));
    assert_eq!(
        VrrpRepr::parse_with_mode(&msg[..n], ip.src_addr, ip.dst_addr),
        Ok((v, ChecksumMode::Legacy))
    );
}

#[test]
fn v3_checksum_covers_pseudo_header_v2_does_not() {
    for ex in EXPECT {
        let frames = load(ex.name);
        let f = adverts(&frames)[0];
        let mut b = f.clone();
        // Change the IP source and fix only the IP header checksum.
        b[29] ^= 0x40;
        let mut p = Ipv4Packet::new_checked(&mut b[14..]).unwrap();
        p.fill_checksum();
        let r = decode_advert(&b);
        if ex.version == 3 {
            assert_eq!(r.unwrap_err(), "vrrp Checksum", "{}", ex.name);
        } else {
            assert!(r.is_ok(), "{}", ex.name);
        }
    }
}

#[test]
fn gratuitous_arps_match_builder() {
    for ex in EXPECT {
        let frames = load(ex.name);
        let g = garps(&frames);
        assert!(
            !g.is_empty(),
            "{}: keepalived sends gratuitous ARP on becoming master",
            ex.name
        );
        let mut seen = Vec::new();
        for f in g {
            let eth = EthernetFrame::new_checked(&f[..]).unwrap();
            assert!(eth.dst_addr().is_broadcast());
            let a = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap();
            assert_eq!(a.operation, ArpOperation::Request);
            assert_eq!(a.source_protocol_addr, a.target_protocol_addr);
            assert_eq!(a.source_hardware_addr, eth.src_addr());
            assert_eq!(a.source_hardware_addr, ex.mac(), "{}", ex.name);
            assert_eq!(a.target_hardware_addr, EthernetAddress::BROADCAST);
            assert!(ex.vips.contains(&a.source_protocol_addr), "{}", ex.name);
            seen.push(a.source_protocol_addr);
            let mut buf = [0u8; 64];
            let n = build::gratuitous_arp(&mut buf, ex.mac(), a.source_protocol_addr);
            assert_eq!(&buf[..n], &f[..], "{}", ex.name);
        }
        for vip in ex.vips {
            assert!(seen.contains(vip), "{}: no GARP for {vip}", ex.name);
        }
    }
}

/// The VRRP error a corrupted VRRP byte at `off` (offset in the message)
/// must produce, given the original message.
fn expected_vrrp_error(orig: &[u8], off: usize, new: u8) -> Option<VrrpError> {
    match off {
        0 => {
            let (ver, ty) = (new >> 4, new & 0x0f);
            if ver != 2 && ver != 3 {
                Some(VrrpError::Version)
            } else if ty != 1 {
                Some(VrrpError::Type)
            } else {
                // Still a valid version/type: length (v2 <-> v3 differ by
                // the auth data) or the checksum catches it.
                None
            }
        }
        3 => {
            let v2 = orig[0] >> 4 == 2;
            let want = 8 + 4 * usize::from(new) + if v2 { 8 } else { 0 };
            Some(if orig.len() < want {
                VrrpError::Truncated
            } else if orig.len() > want {
                VrrpError::Length
            } else {
                VrrpError::Checksum
            })
        }
        _ => Some(VrrpError::Checksum),
    }
}

#[test]
fn every_corrupted_byte_is_rejected_never_panics() {
    let mut checked = 0;
    for ex in EXPECT {
        let frames = load(ex.name);
        for f in adverts(&frames) {
            for i in 0..f.len() {
                for x in [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff] {
                    let mut b = f.clone();
                    b[i] ^= x;
                    let r = decode_advert(&b);
                    assert_eq!(
                        r.is_ok(),
                        parse_advert_frame(&b).is_ok(),
                        "{}: byte {i}",
                        ex.name
                    );
                    checked += 1;
                    if i < 14 {
                        // Ethernet addresses are not checksummed.
                        if i >= 12 {
                            assert!(r.is_err());
                        }
                        continue;
                    }
                    if i < 34 {
                        assert!(r.is_err(), "{}: IP byte {i} ^{x:#x} accepted", ex.name);
                        continue;
                    }
                    let off = i - 34;
                    let err = r.expect_err("corrupted VRRP accepted");
                    match expected_vrrp_error(&f[34..], off, b[i]) {
                        Some(want) => assert_eq!(
                            err,
                            format!("vrrp {want:?}"),
                            "{}: byte {off} ^{x:#x}",
                            ex.name
                        ),
                        None => assert!(err.starts_with("vrrp "), "{}: byte {off}: {err}", ex.name),
                    }
                }
            }
            // Every truncation.
            for n in 0..f.len() {
                assert!(decode_advert(&f[..n]).is_err());
            }
            // VRRP parse over every prefix of the message directly.
            let msg = &f[34..];
            for n in 0..msg.len() {
                assert_eq!(
                    VrrpRepr::parse(&msg[..n], KA_IP, GROUP),
                    Err(VrrpError::Truncated)
                );
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
}

#[test]
fn ip_layer_errors_are_typed() {
    let frames = load("v2_noauth");
    let f = adverts(&frames)[0];
    let ip = &f[14..];
    assert_eq!(
        Ipv4Packet::new_checked(&ip[..19]).unwrap_err(),
        Error::Truncated
    );
    assert_eq!(
        Ipv4Packet::new_checked(&ip[..ip.len() - 1]).unwrap_err(),
        Error::Truncated
    );
    let mut b = ip.to_vec();
    b[8] = 254; // TTL changed without fixing the checksum
    let p = Ipv4Packet::new_checked(&b[..]).unwrap();
    assert_eq!(Ipv4Repr::parse(&p).unwrap_err(), Error::Checksum);
}
