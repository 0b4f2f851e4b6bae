//! keepalived 2.2.7's `auth_type AH` adverts (tests/vectors/keepalived/
//! v2_ah.hex, captured by capture.sh from v2_ah.conf, key "ahsecret"):
//! our ICV computation matches keepalived's for every captured advert,
//! a wrong key or any change to a covered byte fails it, and our builder
//! re-encodes each advert to the identical bytes.

use hagw::wire::ah;
use hagw::wire::build::AdvertHeader;
use hagw::wire::ethernet::EthernetAddress;
use hagw::wire::vrrp::{self, VrrpRepr};
use std::net::Ipv4Addr;

const KA_MAC: EthernetAddress = EthernetAddress([0x02, 0x68, 0x67, 0x00, 0x00, 0x01]);
const KA_IP: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);

/// The AH adverts of the capture (ARP frames left out).
fn adverts() -> Vec<Vec<u8>> {
    let path = format!(
        "{}/tests/vectors/keepalived/v2_ah.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let frames: Vec<Vec<u8>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            (0..l.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).unwrap())
                .collect()
        })
        .filter(|f: &Vec<u8>| f[12..14] == [8, 0])
        .collect();
    assert_eq!(frames.len(), 5, "4 adverts + the priority-0 one");
    frames
}

#[test]
fn icv_matches_keepalived_and_fails_with_a_wrong_key() {
    let key = ah::key_from_password(b"ahsecret");
    let mut seqs = Vec::new();
    for f in adverts() {
        let ip = &f[14..];
        assert_eq!(ip[9], 51, "protocol AH");
        let (h, inner) = ah::split(&ip[20..]).unwrap();
        assert!(ah::spi_matches(&h, KA_IP));
        seqs.push(h.seq);
        let r = VrrpRepr::parse(inner, KA_IP, vrrp::MULTICAST_ADDR).unwrap();
        assert_eq!(
            (r.vrid, r.auth_type, r.auth_data),
            (59, vrrp::AUTH_AH, [0; 8])
        );
        assert_eq!(r.addresses.as_slice(), &[Ipv4Addr::new(10, 99, 0, 150)]);
        assert_eq!(ah::icv(&key, ip, false).unwrap(), ip[32..44]);
        assert!(ah::verify(&key, ip, false));
        assert!(!ah::verify(&ah::key_from_password(b"ahsecreT"), ip, false));
        assert!(!ah::verify(&ah::key_from_password(b"ahsecre"), ip, false));
        // keepalived keys with the first 8 bytes only.
        assert!(ah::verify(
            &ah::key_from_password(b"ahsecret-and-more"),
            ip,
            false
        ));
        // Every byte outside the mutable fields (TOS, flags/offset, header
        // checksum) and the ICV itself is covered.
        for i in 0..ip.len() {
            if [1, 6, 7, 10, 11].contains(&i) || (32..44).contains(&i) {
                continue;
            }
            let mut c = ip.to_vec();
            c[i] ^= 0x80;
            assert!(!ah::verify(&key, &c, false), "byte {i}");
        }
    }
    // keepalived starts at 1 and counts every advert it sends.
    assert_eq!(&seqs[..4], &[1, 2, 3, 4]);
    assert!(seqs[4] > 4);
}

#[test]
fn our_builder_reproduces_keepalived_bytes() {
    let key = ah::key_from_password(b"ahsecret");
    for f in adverts() {
        let ip = &f[14..];
        let (h, inner) = ah::split(&ip[20..]).unwrap();
        let r = VrrpRepr::parse(inner, KA_IP, vrrp::MULTICAST_ADDR).unwrap();
        let id = u16::from_be_bytes([ip[4], ip[5]]);
        let hdr = AdvertHeader::multicast(KA_MAC, KA_IP, id);
        let mut buf = [0u8; 128];
        let n = ah::vrrp_advert(&mut buf, &hdr, &r, &key, h.seq, false);
        assert_eq!(hex(&buf[..n]), hex(&f), "seq {}", h.seq);
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
