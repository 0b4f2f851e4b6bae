//! `hagw convert-keepalived`: every keepalived config under
//! tests/vectors/keepalived/ converts to a config `hagw check-config`
//! accepts, with the same VRID, priority, interval, VIPs, auth and peers;
//! and (as root, with keepalived) a pair of routers running keepalived and
//! the same pair running the converted configs elect the same master and
//! fail over the same way on a namespace segment.
//! (The command is the default-on cargo feature `convert-keepalived`.)
#![cfg(feature = "convert-keepalived")]

mod netns;

use hagw::config::{VrrpAuth, load};
use netns::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/keepalived")
}

fn convert(file: &Path, address: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hagw"))
        .arg("convert-keepalived")
        .arg(file)
        .args(["--address", address])
        .output()
        .unwrap()
}

/// The value of keepalived keyword `key` (first occurrence) in `text`.
fn ka(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some(key)).then(|| w.next().unwrap_or("").to_string())
    })
}

/// The items of a keepalived `key { … }` block.
fn ka_block(text: &str, key: &str) -> Vec<String> {
    let Some(start) = text.find(&format!("{key} {{")) else {
        return Vec::new();
    };
    let body = &text[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
    body.split_whitespace().map(String::from).collect()
}

#[test]
fn every_vector_config_converts_to_a_valid_equivalent() {
    let dir = std::env::temp_dir().join(format!("hagw-convka-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(vectors()).unwrap() {
        let src = e.unwrap().path();
        if src.extension().is_none_or(|x| x != "conf") {
            continue;
        }
        n += 1;
        let name = src.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&src)
            .unwrap()
            .replace("IFNAME", "lan0");
        let ka_file = dir.join(format!("{name}.conf"));
        std::fs::write(&ka_file, &text).unwrap();
        let o = convert(&ka_file, "lan0=10.99.0.2/24");
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(0), "{name}: {stderr}");
        // Every warning names the file and a line of it.
        for w in stderr.lines() {
            let rest = w
                .strip_prefix(&format!("{}:", ka_file.display()))
                .unwrap_or_else(|| panic!("{name}: {w}"));
            let line: usize = rest.split(':').next().unwrap().parse().unwrap();
            assert!(line >= 1 && line <= text.lines().count(), "{name}: {w}");
        }
        // `state MASTER` cannot be carried over: said so at its line.
        let state_line = text
            .lines()
            .position(|l| l.contains("state MASTER"))
            .unwrap()
            + 1;
        assert!(
            stderr.contains(&format!(":{state_line}: state MASTER")),
            "{name}: {stderr}"
        );
        let out = dir.join(format!("{name}.uci"));
        std::fs::write(&out, &o.stdout).unwrap();
        let chk = Command::new(env!("CARGO_BIN_EXE_hagw"))
            .args(["check-config", "-c"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            chk.status.success(),
            "{name}: check-config: {}\n{}",
            String::from_utf8_lossy(&chk.stderr),
            String::from_utf8_lossy(&o.stdout)
        );
        let c = load(out.to_str().unwrap()).unwrap();
        assert_eq!(c.vrrp_groups.len(), 1, "{name}");
        let g = &c.vrrp_groups[0];
        assert_eq!(g.name, "VI_1");
        assert_eq!(c.interface(&g.interface).unwrap().device, "lan0");
        assert_eq!(g.vrid.to_string(), ka(&text, "virtual_router_id").unwrap());
        assert_eq!(g.priority.to_string(), ka(&text, "priority").unwrap());
        assert_eq!(g.version.to_string(), ka(&text, "vrrp_version").unwrap());
        let advert: f64 = ka(&text, "advert_int").unwrap().parse().unwrap();
        assert_eq!(f64::from(g.advert_interval_cs), advert * 100.0, "{name}");
        let vips: Vec<String> = g
            .virtual_addresses
            .iter()
            .map(|v| v.addr.to_string())
            .collect();
        assert_eq!(vips, ka_block(&text, "virtual_ipaddress"), "{name}");
        let peers: Vec<String> = g.unicast_peers.iter().map(|p| p.to_string()).collect();
        assert_eq!(peers, ka_block(&text, "unicast_peer"), "{name}");
        assert_eq!(g.rfc3768_compatibility, text.contains("use_vmac"), "{name}");
        // keepalived sends only the first 8 bytes of a longer password.
        let want = ka(&text, "auth_pass").map(|p| p.chars().take(8).collect::<String>());
        let got = match &g.auth {
            VrrpAuth::Plaintext(p) | VrrpAuth::Ah(p) => Some(p.clone()),
            VrrpAuth::None => None,
        };
        assert_eq!(got, want, "{name}");
        assert_eq!(
            matches!(g.auth, VrrpAuth::Ah(_)),
            text.contains("auth_type AH"),
            "{name}"
        );
    }
    assert_eq!(n, 9, "vector configs");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The keepalived config of router `me` of the pair, from v2_pass.conf:
/// priority `prio`; notify scripts append "STATE" lines to `log`.
fn pair_conf(prio: u8, state: &str, script: &Path) -> String {
    let text = std::fs::read_to_string(vectors().join("v2_pass.conf"))
        .unwrap()
        .replace("IFNAME", "lan0")
        .replace("priority 100", &format!("priority {prio}"))
        .replace("state MASTER", &format!("state {state}"));
    let s = script.display();
    text.replace(
        "    advert_int 1\n",
        &format!(
            "    advert_int 1\n    notify_master \"{s} ka master\"\n    notify_backup \"{s} ka backup\"\n    notify_fault \"{s} ka fault\"\n"
        ),
    )
    .replace(
        "global_defs {\n",
        "global_defs {\n    script_user root\n    enable_script_security\n",
    )
}

fn expect_ka(lab: &Lab, k: &Keepalived, state: &str) {
    if wait_for(Duration::from_secs(12), || {
        keepalived_state(k).as_deref() == Some(state)
    })
    .is_none()
    {
        lab.dump_logs();
        panic!("keepalived not {state}");
    }
}

/// The same two routers, first as keepalived, then as hagw with the
/// converted configs: A (priority 200) is master and B backup; A dies and
/// B takes over.
#[test]
fn converted_pair_elects_and_fails_over_like_keepalived() {
    if skip() {
        return;
    }
    if !Command::new("keepalived")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stderr.is_empty())
    {
        println!("skipped: needs keepalived");
        return;
    }
    let settle = Duration::from_secs(12);
    let addr = |r: &str| format!("10.99.0.{}/24", if r == "a" { 1 } else { 2 });

    // 1. keepalived pair.
    let mut lab = Lab::new("convka_ka");
    lab.segment("l");
    let mut kas = Vec::new();
    for (r, prio, state) in [("a", 200, "MASTER"), ("b", 100, "BACKUP")] {
        let ns = lab.ns(r);
        lab.plug("l", &ns, "lan0");
        lab.addr(&ns, "lan0", &addr(r));
        let log = lab.dir.join(format!("{r}.ka.notify"));
        let script = lab.dir.join(format!("{r}-notify.sh"));
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"$1 $2\" >> {}\n", log.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let conf = pair_conf(prio, state, &script);
        // Keep the keepalived text for the conversion below.
        std::fs::write(lab.dir.join(format!("{r}.keepalived.conf")), &conf).unwrap();
        let k = start_keepalived_conf(&mut lab, &ns, &format!("ka{r}"), &conf, log);
        kas.push((ns, k));
    }
    expect_ka(&lab, &kas[0].1, "master");
    expect_ka(&lab, &kas[1].1, "backup");
    kill_keepalived(&mut lab, &kas[0].1);
    lab.link(&kas[0].0, "lan0", false);
    expect_ka(&lab, &kas[1].1, "master");
    let confs: Vec<String> = ["a", "b"]
        .iter()
        .map(|r| std::fs::read_to_string(lab.dir.join(format!("{r}.keepalived.conf"))).unwrap())
        .collect();
    drop(lab);

    // 2. The converted pair (the kernel has no address on lan0: hagw owns it).
    let mut lab = Lab::new("convka_hagw");
    lab.segment("l");
    let mut routers = Vec::new();
    for (i, r) in ["a", "b"].into_iter().enumerate() {
        let src = lab.dir.join(format!("{r}.keepalived.conf"));
        std::fs::write(&src, &confs[i]).unwrap();
        let o = convert(&src, &format!("lan0={}", addr(r)));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let converted = String::from_utf8(o.stdout).unwrap();
        let mut router = lab.router(r, &converted);
        lab.plug("l", &router.ns, "lan0");
        lab.start(&mut router);
        routers.push(router);
    }
    expect_state(&lab, &routers[0], "VI_1", "master", settle);
    expect_state(&lab, &routers[1], "VI_1", "backup", settle);
    lab.node_death(&routers[0], &["lan0"]);
    expect_state(&lab, &routers[1], "VI_1", "master", settle);
}
