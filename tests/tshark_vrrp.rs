//! Our VRRP adverts, as built by `wire::build::vrrp_advert`, decoded by
//! Wireshark's dissector (tshark): every field means what we meant, every
//! RFC-form checksum is Good, no expert warnings; and the legacy (v2-style)
//! VRRPv3 checksum is what tshark calls Bad by default and Good with its
//! `vrrp.v3_checksum_as_in_v2` preference — i.e. it really is the other form.
//! tcpdump's VRRP printer is checked the same way as a second decoder.
//! Each test skips (with a message) when its tool is not installed.

mod common;

use common::pcap::PcapWriter;
use common::{Row, TempDir, get, stdout_of, tool_runs, tshark, tshark_fields};
use hagw::wire::build::{AdvertHeader, vrrp_advert};
use hagw::wire::ethernet::EthernetAddress;
use hagw::wire::vrrp::{AUTH_NONE, AUTH_PLAINTEXT, ChecksumMode, VrrpRepr};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One advert to build, and what tshark must decode from it.
struct Case {
    what: &'static str,
    version: u8,
    vrid: u8,
    priority: u8,
    /// v2: seconds; v3: centiseconds.
    interval: u16,
    auth_type: u8,
    password: &'static [u8],
    addrs: &'static [[u8; 4]],
    mode: ChecksumMode,
    src: [u8; 4],
}

/// The common case; each entry of CASES says how it differs.
const V2: Case = Case {
    what: "",
    version: 2,
    vrid: 42,
    priority: 100,
    interval: 1,
    auth_type: AUTH_NONE,
    password: b"",
    addrs: &[[192, 168, 42, 50]],
    mode: ChecksumMode::Rfc,
    src: [192, 168, 42, 2],
};

const CASES: &[Case] = &[
    Case {
        what: "v2 no auth",
        ..V2
    },
    Case {
        what: "v2 plaintext auth",
        vrid: 7,
        priority: 254,
        interval: 3,
        auth_type: AUTH_PLAINTEXT,
        password: b"s3cret",
        addrs: &[[10, 0, 0, 1]],
        src: [10, 0, 0, 2],
        ..V2
    },
    Case {
        what: "v2 several VIPs, owner, 255 s",
        vrid: 255,
        priority: 255,
        interval: 255,
        addrs: &[
            [172, 16, 42, 50],
            [172, 16, 42, 51],
            [172, 16, 43, 1],
            [172, 16, 44, 254],
        ],
        src: [172, 16, 42, 2],
        ..V2
    },
    Case {
        what: "v2 priority 0 (resign)",
        vrid: 1,
        priority: 0,
        addrs: &[[192, 168, 1, 1]],
        src: [192, 168, 1, 2],
        ..V2
    },
    Case {
        what: "v3 100 ms",
        version: 3,
        priority: 200,
        interval: 10,
        src: [192, 168, 42, 3],
        ..V2
    },
    Case {
        what: "v3 1 s, two VIPs",
        version: 3,
        vrid: 43,
        priority: 1,
        interval: 100,
        addrs: &[[192, 168, 43, 50], [192, 168, 43, 51]],
        src: [192, 168, 43, 3],
        ..V2
    },
    Case {
        what: "v3 40.95 s (largest interval)",
        version: 3,
        vrid: 9,
        interval: 4095,
        addrs: &[[10, 9, 9, 9]],
        src: [10, 9, 9, 1],
        ..V2
    },
    // Must stay last: the only one whose checksum tshark calls Bad.
    Case {
        what: "v3 1 s, legacy checksum",
        version: 3,
        priority: 150,
        interval: 100,
        mode: ChecksumMode::Legacy,
        src: [192, 168, 42, 4],
        ..V2
    },
];

fn build(c: &Case, ip_id: u16) -> Vec<u8> {
    let mut addresses = heapless::Vec::new();
    for a in c.addrs {
        addresses.push(Ipv4Addr::from(*a)).unwrap();
    }
    let repr = VrrpRepr {
        version: c.version,
        vrid: c.vrid,
        priority: c.priority,
        advert_interval: c.interval,
        auth_type: c.auth_type,
        auth_data: if c.auth_type == AUTH_PLAINTEXT {
            VrrpRepr::plaintext_auth_data(c.password)
        } else {
            [0; 8]
        },
        addresses,
    };
    let mac = EthernetAddress([0x02, 0, 0, 0, 0, c.src[3]]);
    let hdr = AdvertHeader::multicast(mac, Ipv4Addr::from(c.src), ip_id);
    let mut buf = [0u8; 1518];
    let n = vrrp_advert(&mut buf, &hdr, &repr, c.mode);
    assert!(n > 0, "{}: builder wrote nothing", c.what);
    buf[..n].to_vec()
}

const FIELDS: &[&str] = &[
    "frame.number",
    "eth.dst",
    "ip.src",
    "ip.dst",
    "ip.ttl",
    "ip.proto",
    "ip.checksum.status",
    "vrrp.version",
    "vrrp.type",
    "vrrp.virt_rtr_id",
    "vrrp.prio",
    "vrrp.addr_count",
    "vrrp.auth_type",
    "vrrp.adver_int",
    "vrrp.short_adver_int",
    "vrrp.ip_addr",
    "vrrp.auth_string",
    "vrrp.checksum.status",
    "_ws.expert.severity",
    "_ws.expert.message",
];

/// One row per frame, the FIELDS in order; `prefs` as `-o` options.
fn fields(file: &Path, prefs: &[&str]) -> Vec<Row> {
    tshark_fields(file, prefs, FIELDS)
}

/// Every case (IP id = position + 1), then a v2 advert with one checksum
/// bit flipped, as a control: it must be Bad, so a Good for the others
/// cannot come from a check that never runs.
fn write_pcap(dir: &TempDir) -> PathBuf {
    let file = dir.0.join("adverts.pcap");
    let mut w = PcapWriter::new();
    for (i, c) in CASES.iter().enumerate() {
        let id = u16::try_from(i + 1).unwrap();
        w.frame(1_000_000 * u64::from(id), &build(c, id));
    }
    let mut corrupt = build(&CASES[0], 99);
    let ck = 14 + 20 + 6; // Ethernet + IPv4 header + VRRP checksum offset
    corrupt[ck] ^= 0x01;
    w.frame(99_000_000, &corrupt);
    w.write_to(&file);
    // HAGW_KEEP_PCAP=path keeps a copy to look at with wireshark.
    if let Some(keep) = std::env::var_os("HAGW_KEEP_PCAP") {
        w.write_to(Path::new(&keep));
    }
    file
}

#[test]
fn tshark_decodes_our_adverts() {
    if !tool_runs("tshark", &["--version"]) {
        println!("skipped: tshark not installed");
        return;
    }
    let dir = TempDir::new("tshark", "adverts");
    let file = write_pcap(&dir);

    let rows = fields(&file, &[]);
    assert_eq!(rows.len(), CASES.len() + 1);
    let control = &rows[CASES.len()];
    assert_eq!(get(control, "vrrp.version"), "2");
    assert_eq!(
        get(control, "vrrp.checksum.status"),
        "0",
        "corrupted control frame"
    );
    for (c, row) in CASES.iter().zip(&rows) {
        let what = c.what;
        let f = |name| get(row, name);
        assert_eq!(f("eth.dst"), "01:00:5e:00:00:12", "{what}");
        assert_eq!(f("ip.src"), Ipv4Addr::from(c.src).to_string(), "{what}");
        assert_eq!(f("ip.dst"), "224.0.0.18", "{what}");
        assert_eq!(f("ip.ttl"), "255", "{what}");
        assert_eq!(f("ip.proto"), "112", "{what}");
        assert_eq!(f("ip.checksum.status"), "1", "{what}: IPv4 header checksum");
        assert_eq!(f("vrrp.version"), c.version.to_string(), "{what}");
        assert_eq!(f("vrrp.type"), "1", "{what}: advertisement");
        assert_eq!(f("vrrp.virt_rtr_id"), c.vrid.to_string(), "{what}");
        assert_eq!(f("vrrp.prio"), c.priority.to_string(), "{what}");
        assert_eq!(f("vrrp.addr_count"), c.addrs.len().to_string(), "{what}");
        let addrs: Vec<String> = c
            .addrs
            .iter()
            .map(|a| Ipv4Addr::from(*a).to_string())
            .collect();
        assert_eq!(f("vrrp.ip_addr"), addrs.join(","), "{what}");
        if c.version == 2 {
            assert_eq!(f("vrrp.adver_int"), c.interval.to_string(), "{what}");
            assert_eq!(f("vrrp.short_adver_int"), "", "{what}");
            assert_eq!(f("vrrp.auth_type"), c.auth_type.to_string(), "{what}");
            let pw = if c.auth_type == AUTH_PLAINTEXT {
                std::str::from_utf8(c.password).unwrap()
            } else {
                ""
            };
            assert_eq!(f("vrrp.auth_string"), pw, "{what}");
        } else {
            // v3: the 12-bit Max Adver Int in centiseconds, no auth fields.
            assert_eq!(f("vrrp.short_adver_int"), c.interval.to_string(), "{what}");
            assert_eq!(f("vrrp.adver_int"), "", "{what}");
            assert_eq!(f("vrrp.auth_type"), "", "{what}");
        }
        if c.mode == ChecksumMode::Rfc || c.version == 2 {
            assert_eq!(f("vrrp.checksum.status"), "1", "{what}: checksum Good");
            assert_eq!(f("_ws.expert.severity"), "", "{what}: expert info");
            assert_eq!(f("_ws.expert.message"), "", "{what}: expert info");
        } else {
            // Our legacy v3 form is the v2-style sum over the message only;
            // Wireshark's default for v3 is the RFC 5798 pseudo-header form,
            // so it flags it, as a warning of its own.
            assert_eq!(f("vrrp.checksum.status"), "0", "{what}: checksum Bad");
            assert!(
                f("_ws.expert.message").starts_with("Bad checksum [should be 0x"),
                "{what}: {row:?}"
            );
            assert_eq!(f("_ws.expert.severity"), "6291456", "{what}: PI_WARN");
        }
    }

    // With Wireshark's "v3 checksum as in v2" preference the legacy advert
    // is Good — and every RFC-form v3 advert becomes Bad: the two forms
    // really differ, and ours match each definition exactly.
    let legacy = fields(&file, &["vrrp.v3_checksum_as_in_v2:TRUE"]);
    for (c, row) in CASES.iter().zip(&legacy) {
        let want = match (c.version, c.mode) {
            (2, _) | (3, ChecksumMode::Legacy) => "1",
            _ => "0",
        };
        assert_eq!(
            get(row, "vrrp.checksum.status"),
            want,
            "{} (as in v2)",
            c.what
        );
    }

    // The verbose tree says the same in words an operator reads.
    let verbose = tshark(&file, &["-V"]);
    assert_eq!(
        verbose
            .matches("Virtual Router Redundancy Protocol")
            .count(),
        CASES.len() + 1
    );
    assert!(
        verbose.contains("Version 2, Packet type 1 (Advertisement)"),
        "{verbose}"
    );
    assert!(
        verbose.contains("Version 3, Packet type 1 (Advertisement)"),
        "{verbose}"
    );
    assert!(
        verbose
            .contains("Auth Type: Simple Text Authentication [RFC 2338] / Reserved [RFC 3768] (1)"),
        "{verbose}"
    );
    assert!(
        verbose.contains("Authentication String: s3cret"),
        "{verbose}"
    );
    assert!(verbose.contains("Adver Int: 255"), "{verbose}");
    assert!(verbose.contains("Adver Int: 10"), "{verbose}");
    assert!(verbose.contains("Adver Int: 4095"), "{verbose}");
    assert!(verbose.contains("IP Address: 172.16.44.254"), "{verbose}");
    assert!(
        verbose.contains("Priority: 0 (Current Master has stopped participating in VRRP)"),
        "{verbose}"
    );
    assert!(
        verbose
            .contains("Priority: 255 (This VRRP router owns the virtual router's IP address(es))"),
        "{verbose}"
    );
    assert_eq!(
        verbose.matches("[Checksum Status: Good]").count(),
        CASES.len() - 1
    );
    assert_eq!(verbose.matches("[Checksum Status: Bad]").count(), 2); // legacy v3 + control
}

/// tcpdump's VRRP printer is a second, independent decoder; with -vv it
/// verifies the checksum (pseudo-header form for v3) and prints
/// `(bad vrrp cksum X)` when it fails.
#[test]
fn tcpdump_decodes_our_adverts() {
    if !tool_runs("tcpdump", &["--version"]) {
        println!("skipped: tcpdump not installed");
        return;
    }
    let dir = TempDir::new("tshark", "tcpdump");
    let file = write_pcap(&dir);
    let text = stdout_of(
        Command::new("tcpdump")
            .args(["-nn", "-vv", "-r"])
            .arg(&file),
    );
    // Each packet is two lines: the IP header, then the VRRP summary.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 * (CASES.len() + 1), "{text}");
    for (i, c) in CASES.iter().enumerate() {
        let (ip, vrrp) = (lines[2 * i], lines[2 * i + 1]);
        let what = c.what;
        assert!(ip.contains("ttl 255,"), "{what}: {ip}");
        assert!(ip.contains("proto VRRP (112)"), "{what}: {ip}");
        assert!(ip.contains(&format!("id {},", i + 1)), "{what}: {ip}");
        let src = Ipv4Addr::from(c.src);
        let mut want = format!(
            "{src} > 224.0.0.18: VRRPv{}, Advertisement, vrid {}, prio {}, ",
            c.version, c.vrid, c.priority
        );
        if c.version == 2 {
            let auth = if c.auth_type == AUTH_PLAINTEXT {
                "simple"
            } else {
                "none"
            };
            want += &format!("authtype {auth}, intvl {}s, ", c.interval);
        } else {
            want += &format!("intvl {}cs, ", c.interval);
        }
        let vrrp_len = 8 + 4 * c.addrs.len() + if c.version == 2 { 8 } else { 0 };
        want += &format!("length {vrrp_len}, ");
        if c.version == 3 && c.mode == ChecksumMode::Legacy {
            want += "(bad vrrp cksum ";
        } else {
            let addrs: Vec<String> = c
                .addrs
                .iter()
                .map(|a| Ipv4Addr::from(*a).to_string())
                .collect();
            if addrs.len() == 1 {
                want += &format!("addrs: {}", addrs[0]);
            } else {
                want += &format!("addrs({}): {}", addrs.len(), addrs.join(","));
            }
        }
        assert!(
            vrrp.trim_start().starts_with(&want),
            "{what}:\n got {vrrp}\nwant {want}"
        );
        if c.auth_type == AUTH_PLAINTEXT {
            let pw = std::str::from_utf8(c.password).unwrap();
            assert!(vrrp.ends_with(&format!(" auth \"{pw}\"")), "{what}: {vrrp}");
        }
    }
    let control = lines[2 * CASES.len() + 1];
    assert!(control.contains("(bad vrrp cksum "), "control: {control}");
    assert_eq!(text.matches("bad vrrp cksum").count(), 2, "{text}");
}

/// The pcap writer itself: header and record layout as libpcap defines them.
#[test]
fn pcap_header_and_record_layout() {
    let mut w = PcapWriter::new();
    assert_eq!(w.bytes().len(), 24);
    w.frame(1_500_000, &[1, 2, 3]);
    let b = w.bytes();
    assert_eq!(&b[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
    assert_eq!(&b[20..24], &1u32.to_le_bytes());
    assert_eq!(&b[24..28], &1u32.to_le_bytes()); // 1 s
    assert_eq!(&b[28..32], &500_000u32.to_le_bytes()); // .5 s
    assert_eq!(&b[32..36], &3u32.to_le_bytes());
    assert_eq!(&b[36..40], &3u32.to_le_bytes());
    assert_eq!(&b[40..], &[1, 2, 3]);
    assert_eq!(w.len(), 1);
}
