//! `make ipk` (cross/ipk.sh): builds a package from the host binary and
//! checks its structure the way opkg-lede reads it: gunzip the file, walk
//! the tar headers, find ./debian-binary, ./data.tar.gz, ./control.tar.gz;
//! control fields, conffiles, maintainer scripts, file paths and modes.
//! Needs only tar and gzip (no root, no network).

mod common;

use common::TempDir;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs cross/ipk.sh for `target` packaging `bin` into `out`; returns the .ipk path.
fn build_ipk(target: &str, bin: &Path, out: &Path) -> PathBuf {
    let o = Command::new("bash")
        .arg(repo().join("cross/ipk.sh"))
        .arg(target)
        .arg(bin)
        .env("IPK_OUT", out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ipk.sh failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let mut ipks: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ipk"))
        .collect();
    assert_eq!(ipks.len(), 1, "{ipks:?}");
    ipks.pop().unwrap()
}

struct Member {
    name: String,
    uid: u64,
    gid: u64,
    mode: u64,
    data: Vec<u8>,
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut c = Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Feed stdin from a thread: gzip's output pipe must be drained meanwhile.
    let mut stdin = c.stdin.take().unwrap();
    let input = bytes.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let o = c.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(o.status.success(), "not a gzip stream");
    o.stdout
}

fn octal(f: &[u8]) -> u64 {
    let s = std::str::from_utf8(f).unwrap();
    let s = s.trim_matches(|c: char| c == '\0' || c == ' ');
    u64::from_str_radix(s, 8).unwrap_or_else(|_| panic!("octal field {s:?}"))
}

/// Reads a package the way opkg-lede does: the file is a gzip stream of a
/// tar; walk its 512-byte headers (name at 0, mode 100, uid 108, gid 116,
/// size 124, checksum 148, type 156, "ustar" at 257) up to the two zero
/// blocks. Checks each header's checksum; only regular files are expected.
fn read_opkg(file: &[u8]) -> Vec<Member> {
    assert_eq!(&file[..2], b"\x1f\x8b", "outer container must be gzip");
    assert_eq!(&file[4..8], b"\0\0\0\0", "gzip -n: no mtime in the header");
    assert_eq!(file[3] & 0x08, 0, "gzip -n: no file name in the header");
    let tar = gunzip(file);
    assert_eq!(tar.len() % 512, 0);
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        let h = &tar[pos..pos + 512];
        if h.iter().all(|&b| b == 0) {
            break;
        }
        let sum: u64 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    b as u64
                }
            })
            .sum();
        assert_eq!(sum, octal(&h[148..156]), "header checksum at {pos}");
        assert_eq!(&h[257..262], b"ustar", "tar magic at {pos}");
        assert_eq!(h[156], b'0', "member at {pos} is not a regular file");
        let name = String::from_utf8(h[..100].split(|&b| b == 0).next().unwrap().to_vec()).unwrap();
        let size = octal(&h[124..136]) as usize;
        let start = pos + 512;
        out.push(Member {
            name,
            uid: octal(&h[108..116]),
            gid: octal(&h[116..124]),
            mode: octal(&h[100..108]),
            data: tar[start..start + size].to_vec(),
        });
        pos = start + size.div_ceil(512) * 512;
    }
    assert!(
        tar[pos..].iter().all(|&b| b == 0),
        "data after the end blocks"
    );
    out
}

/// The member called `name` (opkg-lede looks members up by name).
fn member<'a>(m: &'a [Member], name: &str) -> &'a Member {
    m.iter()
        .find(|x| x.name == name)
        .unwrap_or_else(|| panic!("{name} missing"))
}

/// Unpacks a .tar.gz into `dir` and returns `tar -tv` lines (numeric owners).
fn untar(tgz: &[u8], dir: &Path) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let f = dir.with_extension("tar.gz");
    std::fs::write(&f, tgz).unwrap();
    let x = Command::new("tar")
        .arg("-xzf")
        .arg(&f)
        .arg("-C")
        .arg(dir)
        .status()
        .unwrap();
    assert!(x.success());
    let l = Command::new("tar")
        .args(["--numeric-owner", "-tvzf"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(l.status.success());
    String::from_utf8(l.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// The `tar -tv` line for `path` (e.g. "./usr/sbin/hagw").
fn entry<'a>(list: &'a [String], path: &str) -> &'a str {
    list.iter()
        .find(|l| l.split_whitespace().last() == Some(path))
        .unwrap_or_else(|| panic!("{path} not in {list:#?}"))
}

fn field<'a>(control: &'a str, name: &str) -> Option<&'a str> {
    control
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
        .map(str::trim)
}

#[test]
fn ipk_structure_for_the_host_binary() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_hagw"));
    let tmp = TempDir::new("ipk", "test");
    let dir = &tmp.0;
    let ipk = build_ipk("x86_64-unknown-linux-musl", &bin, &dir.join("out"));
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        ipk.file_name().unwrap().to_str().unwrap(),
        format!("hagw_{version}_x86_64.ipk")
    );

    let bytes = std::fs::read(&ipk).unwrap();
    assert_ne!(
        &bytes[..8],
        b"!<arch>\n",
        "opkg-lede cannot read ar archives"
    );
    let members = read_opkg(&bytes);
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    // The order of OpenWrt's ipkg-build.
    assert_eq!(
        names,
        ["./debian-binary", "./data.tar.gz", "./control.tar.gz"]
    );
    for m in &members {
        assert_eq!((m.uid, m.gid, m.mode & 0o7777), (0, 0, 0o644), "{}", m.name);
    }
    assert_eq!(member(&members, "./debian-binary").data, b"2.0\n");
    // Reproducible: a second build is byte-identical.
    let again = build_ipk("x86_64-unknown-linux-musl", &bin, &dir.join("out2"));
    assert_eq!(
        std::fs::read(&again).unwrap(),
        bytes,
        "ipk not reproducible"
    );

    // control.tar.gz
    let cdir = dir.join("control");
    let clist = untar(&member(&members, "./control.tar.gz").data, &cdir);
    for (path, mode) in [
        ("./control", "-rw-r--r--"),
        ("./conffiles", "-rw-r--r--"),
        ("./postinst", "-rwxr-xr-x"),
        ("./prerm", "-rwxr-xr-x"),
    ] {
        let e = entry(&clist, path);
        assert!(e.starts_with(mode) && e.contains(" 0/0 "), "{e}");
    }
    let control = std::fs::read_to_string(cdir.join("control")).unwrap();
    assert_eq!(field(&control, "Package"), Some("hagw"));
    assert_eq!(field(&control, "Version"), Some(version));
    assert_eq!(field(&control, "Architecture"), Some("x86_64"));
    assert_eq!(
        field(&control, "Depends"),
        Some(""),
        "static binary: no dependencies"
    );
    assert!(field(&control, "Maintainer").is_some_and(|m| !m.is_empty()));
    assert!(field(&control, "Description").is_some_and(|m| !m.is_empty()));
    // Continuation lines of a multi-line field start with a space.
    for l in control.lines() {
        assert!(
            l.starts_with(' ') || l.contains(':'),
            "bad control line {l:?}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(cdir.join("conffiles")).unwrap(),
        "/etc/config/hagw\n"
    );

    // postinst must not enable or start anything: apart from the install-root
    // guard, it only prints.
    let postinst = std::fs::read_to_string(cdir.join("postinst")).unwrap();
    assert!(postinst.starts_with("#!/bin/sh\n"));
    for l in postinst
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        assert!(
            l.starts_with("echo ") || l == "exit 0" || l == "[ -n \"$IPKG_INSTROOT\" ] && exit 0",
            "postinst does more than print: {l:?}"
        );
    }
    let prerm = std::fs::read_to_string(cdir.join("prerm")).unwrap();
    assert!(prerm.contains("/etc/init.d/hagw stop"), "{prerm}");

    // data.tar.gz
    let ddir = dir.join("data");
    let dlist = untar(&member(&members, "./data.tar.gz").data, &ddir);
    assert!(entry(&dlist, "./usr/sbin/hagw").starts_with("-rwxr-xr-x 0/0 "));
    assert!(entry(&dlist, "./etc/init.d/hagw").starts_with("-rwxr-xr-x 0/0 "));
    assert!(entry(&dlist, "./etc/config/hagw").starts_with("-rw------- 0/0 "));
    let files: Vec<&str> = dlist
        .iter()
        .filter(|l| l.starts_with('-'))
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert!(entry(&dlist, "./usr/libexec/rpcd/hagw").starts_with("-rwxr-xr-x 0/0 "));
    assert_eq!(
        files,
        [
            "./etc/config/hagw",
            "./etc/init.d/hagw",
            "./usr/libexec/rpcd/hagw",
            "./usr/sbin/hagw"
        ]
    );
    assert_eq!(
        std::fs::read(ddir.join("usr/sbin/hagw")).unwrap(),
        std::fs::read(&bin).unwrap()
    );
    assert_eq!(
        std::fs::read(ddir.join("etc/init.d/hagw")).unwrap(),
        std::fs::read(repo().join("board/openwrt/hagw.init")).unwrap()
    );
    // Installed-Size is the unpacked data tar in bytes, as OpenWrt's ipkg-build sets it.
    let unpacked = Command::new("gzip")
        .arg("-dc")
        .arg(dir.join("data.tar.gz"))
        .output()
        .unwrap()
        .stdout
        .len();
    assert_eq!(
        field(&control, "Installed-Size"),
        Some(unpacked.to_string().as_str())
    );

    // The packaged binary and config work together.
    let v = Command::new(ddir.join("usr/sbin/hagw"))
        .arg("version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).contains(version));

    // An independent reader agrees: GNU tar lists the outer container.
    let l = Command::new("tar").arg("-tzf").arg(&ipk).output().unwrap();
    assert!(l.status.success());
    assert_eq!(
        String::from_utf8_lossy(&l.stdout),
        "./debian-binary\n./data.tar.gz\n./control.tar.gz\n"
    );
}

#[test]
fn ipk_architecture_follows_the_target() {
    let tmp = TempDir::new("ipkarch", "test");
    let dir = &tmp.0;
    let fake = dir.join("hagw-bin");
    std::fs::write(&fake, b"not really a binary\n").unwrap();
    for (target, arch) in [
        ("mipsel-unknown-linux-musl", "mipsel_24kc"),
        ("mips-unknown-linux-musl", "mips_24kc"),
        ("aarch64", "aarch64_generic"),
        ("armv7-unknown-linux-musleabihf", "arm_cortex-a7_neon-vfpv4"),
    ] {
        let out = dir.join(arch);
        let ipk = build_ipk(target, &fake, &out);
        assert!(
            ipk.to_str().unwrap().ends_with(&format!("_{arch}.ipk")),
            "{ipk:?}"
        );
        let members = read_opkg(&std::fs::read(&ipk).unwrap());
        let cdir = out.join("control");
        untar(&member(&members, "./control.tar.gz").data, &cdir);
        let control = std::fs::read_to_string(cdir.join("control")).unwrap();
        assert_eq!(field(&control, "Architecture"), Some(arch), "{target}");
    }
}
