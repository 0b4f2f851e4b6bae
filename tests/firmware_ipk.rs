//! `make ipk` (cross/ipk.sh): builds a package from the host binary and
//! checks its structure the way opkg reads it: ar members in order,
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
    uid: String,
    gid: String,
    mode: String,
    data: Vec<u8>,
}

/// A strict reader of the common ar format (what dpkg and opkg accept).
fn read_ar(bytes: &[u8]) -> Vec<Member> {
    assert_eq!(&bytes[..8], b"!<arch>\n", "ar magic");
    let mut pos = 8;
    let mut out = Vec::new();
    while pos < bytes.len() {
        let h = &bytes[pos..pos + 60];
        assert_eq!(&h[58..60], b"`\n", "ar header terminator at {pos}");
        let field = |a: usize, b: usize| {
            String::from_utf8(h[a..b].to_vec())
                .unwrap()
                .trim_end()
                .to_string()
        };
        let size: usize = field(48, 58).parse().unwrap();
        let start = pos + 60;
        out.push(Member {
            name: field(0, 16),
            uid: field(28, 34),
            gid: field(34, 40),
            mode: field(40, 48),
            data: bytes[start..start + size].to_vec(),
        });
        pos = start + size + size % 2;
    }
    assert_eq!(pos, bytes.len(), "trailing bytes after the last member");
    out
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

    let members = read_ar(&std::fs::read(&ipk).unwrap());
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["debian-binary", "control.tar.gz", "data.tar.gz"]);
    for m in &members {
        assert_eq!(
            (m.uid.as_str(), m.gid.as_str(), m.mode.as_str()),
            ("0", "0", "100644"),
            "{}",
            m.name
        );
    }
    assert_eq!(members[0].data, b"2.0\n");

    // control.tar.gz
    let cdir = dir.join("control");
    let clist = untar(&members[1].data, &cdir);
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
    let dlist = untar(&members[2].data, &ddir);
    assert!(entry(&dlist, "./usr/sbin/hagw").starts_with("-rwxr-xr-x 0/0 "));
    assert!(entry(&dlist, "./etc/init.d/hagw").starts_with("-rwxr-xr-x 0/0 "));
    assert!(entry(&dlist, "./etc/config/hagw").starts_with("-rw------- 0/0 "));
    let files: Vec<&str> = dlist
        .iter()
        .filter(|l| l.starts_with('-'))
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert_eq!(
        files,
        ["./etc/config/hagw", "./etc/init.d/hagw", "./usr/sbin/hagw"]
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

    // An independent reader agrees, where installed (Debian's dpkg-deb).
    if let Ok(o) = Command::new("dpkg-deb")
        .arg("--field")
        .arg(&ipk)
        .arg("Package")
        .output()
    {
        if o.status.success() {
            assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "hagw");
        }
    }
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
        let members = read_ar(&std::fs::read(&ipk).unwrap());
        let cdir = out.join("control");
        untar(&members[1].data, &cdir);
        let control = std::fs::read_to_string(cdir.join("control")).unwrap();
        assert_eq!(field(&control, "Architecture"), Some(arch), "{target}");
    }
}
