//! `hagw convert-keepalived FILE`: the VRRP part of a keepalived.conf as an
//! equivalent /etc/config/hagw.
//!
//! Owns: reading keepalived's syntax (words, `{ }` blocks, `#`/`!` comments,
//! double quotes) and mapping vrrp_instance / vrrp_sync_group onto hagw's
//! sections. What cannot be carried over becomes a warning naming its line.
//! Never: touches the system, except to look up a device's current IPv4
//! address when none is given on the command line.

use std::collections::BTreeMap;
use std::fmt::Write;

/// One keepalived statement: its words, its line, and its `{ }` block.
#[derive(Debug, Default)]
struct Node {
    words: Vec<String>,
    line: usize,
    block: Vec<Node>,
}

impl Node {
    fn key(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }
    fn arg(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(String::as_str)
    }
    /// The words of a block's items (`virtual_ipaddress { a b }` lists).
    fn items(&self) -> impl Iterator<Item = &Node> {
        self.block.iter()
    }
}

fn tokens(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let mut chars = raw.chars().peekable();
        let mut word = String::new();
        let push = |w: &mut String, out: &mut Vec<(String, usize)>| {
            if !w.is_empty() {
                out.push((core::mem::take(w), i + 1));
            }
        };
        while let Some(c) = chars.next() {
            match c {
                '#' | '!' if word.is_empty() => break,
                '"' => {
                    for q in chars.by_ref() {
                        if q == '"' {
                            break;
                        }
                        word.push(q);
                    }
                    // A quoted empty string is still a word.
                    if word.is_empty() {
                        out.push((String::new(), i + 1));
                    }
                }
                '{' | '}' => {
                    push(&mut word, &mut out);
                    out.push((c.to_string(), i + 1));
                }
                c if c.is_whitespace() => push(&mut word, &mut out),
                c => word.push(c),
            }
        }
        push(&mut word, &mut out);
        out.push(("\n".to_string(), i + 1));
    }
    out
}

/// Statements end at a newline or a block; a block is `{ … }`.
fn parse(toks: &[(String, usize)], pos: &mut usize, depth: usize) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut cur = Node::default();
    while let Some((t, line)) = toks.get(*pos) {
        *pos += 1;
        match t.as_str() {
            "\n" => {
                if !cur.words.is_empty() {
                    nodes.push(core::mem::take(&mut cur));
                }
            }
            "{" => {
                if cur.words.is_empty() {
                    cur.line = *line;
                }
                // Bounded: 16 levels are far more than keepalived uses.
                cur.block = if depth < 16 {
                    parse(toks, pos, depth + 1)
                } else {
                    Vec::new()
                };
                nodes.push(core::mem::take(&mut cur));
            }
            "}" => break,
            w => {
                if cur.words.is_empty() {
                    cur.line = *line;
                }
                cur.words.push(w.to_string());
            }
        }
    }
    if !cur.words.is_empty() {
        nodes.push(cur);
    }
    nodes
}

/// The longest prefix of `s` of at most 8 bytes that ends on a character.
fn first8(s: &str) -> &str {
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if i + c.len_utf8() > 8 {
            break;
        }
        end = i + c.len_utf8();
    }
    &s[..end]
}

/// A UCI section name from any keepalived name: letters, digits and `_`.
fn uci_name(s: &str) -> String {
    let n: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if n.is_empty() { "_".to_string() } else { n }
}

/// A UCI value in single quotes (a `'` inside becomes `'\''`).
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[derive(Default)]
struct Group {
    name: String,
    line: usize,
    opts: Vec<(&'static str, String)>,
    lists: Vec<(&'static str, String)>,
    device: Option<String>,
    sync_group: Option<String>,
}

pub struct Converted {
    pub config: String,
    pub warnings: Vec<String>,
}

/// Convert keepalived config `text` (named `file` in warnings). `address`
/// gives a device's IPv4 address with prefix length, if known. Err when
/// there is no vrrp_instance at all.
pub fn convert(
    file: &str,
    text: &str,
    address: &dyn Fn(&str) -> Option<String>,
) -> Result<Converted, String> {
    let toks = tokens(text);
    let mut pos = 0;
    let top = parse(&toks, &mut pos, 0);
    let mut warnings = Vec::new();
    let mut warn = |line: usize, msg: String| {
        warnings.push(if line == 0 {
            format!("{file}: {msg}")
        } else {
            format!("{file}:{line}: {msg}")
        })
    };

    let mut version: Option<String> = None;
    let mut router_id: Option<String> = None;
    let mut groups: Vec<Group> = Vec::new();
    let mut sync: Vec<(&Node, String)> = Vec::new();
    for n in &top {
        match n.key() {
            "global_defs" => {
                for g in n.items() {
                    match g.key() {
                        "vrrp_version" => version = g.arg(1).map(String::from),
                        "router_id" => router_id = g.arg(1).map(String::from),
                        k => warn(g.line, format!("global_defs {k}: not carried over")),
                    }
                }
            }
            "vrrp_instance" => groups.push(instance(n, &mut warn)),
            "vrrp_sync_group" => sync.push((n, uci_name(n.arg(1).unwrap_or("sync")))),
            k => warn(
                n.line,
                format!("{k}: not carried over (hagw converts the VRRP part only)"),
            ),
        }
    }
    if groups.is_empty() {
        return Err(format!("{file}: no vrrp_instance found"));
    }
    for (n, name) in &sync {
        for g in n.items() {
            match g.key() {
                "group" => {
                    let members = g.items().flat_map(|m| m.words.iter());
                    for m in members.chain(g.words.iter().skip(1)) {
                        match groups.iter_mut().find(|x| x.name == *m) {
                            Some(x) => x.sync_group = Some(name.clone()),
                            None => warn(
                                g.line,
                                format!("sync group member {m}: no such vrrp_instance"),
                            ),
                        }
                    }
                }
                k => warn(
                    g.line,
                    format!(
                        "vrrp_sync_group {k}: not carried over (notify per group is carried over)"
                    ),
                ),
            }
        }
    }

    // Interfaces: each device of a group (role lan), then tracked devices
    // that are not group devices (role wan: the uplink a group watches).
    let mut ifaces: BTreeMap<String, (&'static str, String)> = BTreeMap::new();
    for g in &groups {
        if let Some(d) = &g.device {
            ifaces.insert(d.clone(), ("lan", uci_name(d)));
        }
    }
    for g in &groups {
        for (k, d) in &g.lists {
            if *k == "track_interface" && !ifaces.contains_key(d) {
                ifaces.insert(d.clone(), ("wan", uci_name(d)));
            }
        }
    }
    let group_names: Vec<String> = groups.iter().map(|g| uci_name(&g.name)).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Converted by `hagw convert-keepalived {file}` (hagw {}).",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(r) = &router_id {
        let _ = writeln!(out, "# keepalived router_id was {r}.");
    }
    out.push_str("# The kernel must have NO IPv4 address on lan/wan devices: hagw owns them.\n");
    out.push_str("# Check with: hagw check-config -c FILE\n\nconfig globals 'globals'\n\toption node_id '1'\n");
    for (dev, (role, name)) in &ifaces {
        let mut name = name.clone();
        if group_names.contains(&name) {
            name.push_str("_if");
        }
        let addr = address(dev).unwrap_or_else(|| {
            warn(0, format!("device {dev}: no IPv4 address known; give one with --address {dev}=A.B.C.D/LEN (the config does not pass check-config until then)"));
            "FILL_IN_ADDRESS/24".to_string()
        });
        let _ = writeln!(
            out,
            "\nconfig interface {}\n\toption device {}\n\toption role {}\n\toption address {}",
            q(&name),
            q(dev),
            q(role),
            q(&addr)
        );
        for g in &mut groups {
            for (k, v) in g.lists.iter_mut() {
                if *k == "track_interface" && v == dev {
                    *v = name.clone();
                }
            }
            if g.device.as_deref() == Some(dev.as_str()) {
                g.opts.insert(0, ("interface", name.clone()));
            }
        }
    }
    for (g, name) in groups.iter_mut().zip(&group_names) {
        if let (Some(v), false) = (&version, g.opts.iter().any(|(k, _)| *k == "version")) {
            g.opts.push(("version", v.clone()));
        }
        if let Some(s) = &g.sync_group {
            g.opts.push(("sync_group", s.clone()));
        }
        let _ = writeln!(
            out,
            "\n# keepalived vrrp_instance {} (line {})",
            g.name, g.line
        );
        let _ = writeln!(out, "config vrrp_group {}", q(name));
        for (k, v) in &g.opts {
            let _ = writeln!(out, "\toption {k} {}", q(v));
        }
        for (k, v) in &g.lists {
            let _ = writeln!(out, "\tlist {k} {}", q(v));
        }
    }
    Ok(Converted {
        config: out,
        warnings,
    })
}

/// The items of a `key { … }` block as `list uci_key` values: the first
/// word of each; the rest is dropped with a warning saying `why`.
fn list(
    g: &mut Group,
    block: &Node,
    uci_key: &'static str,
    why: &str,
    warn: &mut dyn FnMut(usize, String),
) {
    for v in block.items() {
        g.lists.push((uci_key, v.arg(0).unwrap_or("").to_string()));
        if v.words.len() > 1 {
            warn(
                v.line,
                format!("{} {}: {why}", block.key(), v.words.join(" ")),
            );
        }
    }
}

/// One vrrp_instance as a hagw group (interface filled in later).
fn instance(n: &Node, warn: &mut dyn FnMut(usize, String)) -> Group {
    let mut g = Group {
        name: n.arg(1).unwrap_or("VI").to_string(),
        line: n.line,
        ..Group::default()
    };
    let mut notify: Option<String> = None;
    for s in n.items() {
        let a1 = s.arg(1).unwrap_or("").to_string();
        let l = s.line;
        match s.key() {
            "interface" => g.device = Some(a1),
            "virtual_router_id" => g.opts.push(("vrid", a1)),
            "priority" => g.opts.push(("priority", a1)),
            "advert_int" => g.opts.push(("advertise_interval", a1)),
            "version" => g.opts.push(("version", a1)),
            "nopreempt" => g.opts.push(("preempt", "0".into())),
            "preempt_delay" => g.opts.push(("preempt_delay", a1)),
            "use_vmac" => {
                g.opts.push(("rfc3768_compatibility", "1".into()));
                if s.arg(1).is_some() {
                    warn(l, "use_vmac NAME: hagw has no macvlan device; the virtual MAC is used on the interface itself".into());
                }
            }
            "garp_master_repeat" => g.opts.push(("garp_repeat", a1)),
            "garp_master_refresh" => g.opts.push(("garp_refresh", a1)),
            "state" => warn(
                l,
                format!(
                    "state {a1}: hagw starts every group as backup and elects by priority, as keepalived does after the first advert; dropped"
                ),
            ),
            "virtual_ipaddress" => list(
                &mut g,
                s,
                "virtual_address",
                "only the address is carried over",
                warn,
            ),
            "unicast_peer" => list(
                &mut g,
                s,
                "unicast_peer",
                "only the address is carried over",
                warn,
            ),
            "track_interface" => list(
                &mut g,
                s,
                "track_interface",
                "hagw has no weights; the group goes to fault while the interface is down",
                warn,
            ),
            "unicast_src_ip" => warn(
                l,
                format!(
                    "unicast_src_ip {a1}: hagw sends from the interface's address (option address); check it is {a1}"
                ),
            ),
            "authentication" => {
                let mut ty = None;
                let mut pass = None;
                let mut pass_line = l;
                for a in s.items() {
                    match a.key() {
                        "auth_type" => ty = a.arg(1).map(String::from),
                        "auth_pass" => {
                            pass = a.arg(1).map(String::from);
                            pass_line = a.line;
                        }
                        _ => {}
                    }
                }
                match (ty.as_deref(), pass) {
                    (Some(t @ ("PASS" | "AH")), Some(p)) => {
                        let ty = if t == "AH" {
                            "ah"
                        } else {
                            "plaintext-password"
                        };
                        g.opts.push(("auth_type", ty.into()));
                        let p8 = first8(&p);
                        if p8.len() < p.len() {
                            warn(
                                pass_line,
                                format!(
                                    "auth_pass: longer than 8 characters; keepalived sends only the first 8, so does this config ({p8})"
                                ),
                            );
                        }
                        g.opts.push(("auth_password", p8.to_string()));
                    }
                    (t, _) => warn(
                        l,
                        format!(
                            "authentication {}: not supported by hagw (only PASS and AH, with auth_pass); dropped",
                            t.unwrap_or("?")
                        ),
                    ),
                }
            }
            "notify" => notify = Some(a1),
            k @ ("notify_master" | "notify_backup" | "notify_fault" | "notify_stop") => warn(
                l,
                format!(
                    "{k}: not carried over; hagw runs one script for every state (notify, here with notify_args 'keepalived': INSTANCE NAME STATE PRIORITY), or /etc/hotplug.d/hagw/ scripts"
                ),
            ),
            k => warn(l, format!("{k}: not carried over")),
        }
    }
    if let Some(script) = notify {
        // keepalived's notify may carry arguments; hagw's is a path.
        let path = script.split_whitespace().next().unwrap_or("").to_string();
        if path != script {
            warn(
                n.line,
                format!("notify \"{script}\": hagw runs a path without arguments; using {path}"),
            );
        }
        g.opts.push(("notify", path));
        g.opts.push(("notify_args", "keepalived".into()));
    }
    g
}

/// The first IPv4 address of `device` on this machine, as A.B.C.D/LEN.
pub fn system_address(device: &str) -> Option<String> {
    let mut head: *mut libc::ifaddrs = core::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return None;
    }
    let mut found = None;
    let mut p = head;
    while !p.is_null() && found.is_none() {
        // SAFETY: p is a node of the list getifaddrs returned.
        let ifa = unsafe { &*p };
        p = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_netmask.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string.
        let name = unsafe { core::ffi::CStr::from_ptr(ifa.ifa_name) };
        // SAFETY: ifa_addr points to a sockaddr of at least its family's size.
        if name.to_bytes() != device.as_bytes()
            || i32::from(unsafe { (*ifa.ifa_addr).sa_family }) != libc::AF_INET
        {
            continue;
        }
        // SAFETY: AF_INET: both are sockaddr_in.
        let (a, m) = unsafe {
            (
                *(ifa.ifa_addr as *const libc::sockaddr_in),
                *(ifa.ifa_netmask as *const libc::sockaddr_in),
            )
        };
        let addr = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
        let len = u32::from_be(m.sin_addr.s_addr).count_ones();
        found = Some(format!("{addr}/{len}"));
    }
    // SAFETY: head came from getifaddrs.
    unsafe { libc::freeifaddrs(head) };
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const KA: &str = "\
! comment
global_defs {
    router_id r1
    vrrp_version 3
    enable_script_security
}
vrrp_script chk { script \"/bin/true\" }
vrrp_sync_group SG-1 {
    group {
        VI_1
        VI_2
    }
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.5
    nopreempt
    virtual_ipaddress {
        192.168.1.10/24 dev eth0
        192.168.1.11
    }
    track_interface {
        eth1 weight 10
    }
    notify \"/etc/ka/notify.sh\"
}
vrrp_instance VI_2 {
    interface eth1
    virtual_router_id 52
    version 2
    authentication {
        auth_type PASS
        auth_pass longpassword
    }
    unicast_peer {
        10.0.0.3
    }
    virtual_ipaddress {
        10.0.0.1
    }
}
";

    #[test]
    fn converts_instances_sync_groups_and_warns_with_lines() {
        let addr = |d: &str| match d {
            "eth0" => Some("192.168.1.2/24".to_string()),
            "eth1" => Some("10.0.0.2/24".to_string()),
            _ => None,
        };
        let c = convert("ka.conf", KA, &addr).unwrap();
        let want = [
            "config interface 'eth0'\n\toption device 'eth0'\n\toption role 'lan'\n\toption address '192.168.1.2/24'\n",
            "config vrrp_group 'VI_1'\n\toption interface 'eth0'\n\toption vrid '51'\n\toption priority '150'\n\toption advertise_interval '0.5'\n\toption preempt '0'\n\toption notify '/etc/ka/notify.sh'\n\toption notify_args 'keepalived'\n\toption version '3'\n\toption sync_group 'SG_1'\n\tlist virtual_address '192.168.1.10/24'\n\tlist virtual_address '192.168.1.11'\n\tlist track_interface 'eth1'\n",
            "\toption auth_type 'plaintext-password'\n\toption auth_password 'longpass'\n\toption sync_group 'SG_1'\n\tlist unicast_peer '10.0.0.3'\n",
        ];
        for w in want {
            assert!(c.config.contains(w), "{w}\nin:\n{}", c.config);
        }
        let warns = c.warnings.join("\n");
        for w in [
            "ka.conf:5: global_defs enable_script_security",
            "ka.conf:7: vrrp_script: not carried over",
            "ka.conf:15: state MASTER",
            "ka.conf:22: virtual_ipaddress 192.168.1.10/24 dev eth0: only the address",
            "ka.conf:26: track_interface eth1 weight 10",
            "ka.conf:36: auth_pass: longer than 8",
        ] {
            assert!(warns.contains(w), "{w}\nin:\n{warns}");
        }
        // The result is a config hagw accepts.
        crate::config::parse_str("out", &c.config)
            .unwrap_or_else(|e| panic!("{e:#?}\n{}", c.config));
    }

    #[test]
    fn no_instance_and_unknown_address() {
        assert!(convert("x", "global_defs {\n}\n", &|_| None).is_err());
        let c = convert("x", "vrrp_instance A {\n interface e0\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n", &|_| None).unwrap();
        assert!(c.config.contains("FILL_IN_ADDRESS"));
        assert!(c.warnings[0].contains("--address e0="));
        // Garbage never panics.
        for t in [
            "{{{{",
            "}}}}",
            "vrrp_instance {",
            "\"",
            "vrrp_instance X { authentication { auth_pass é€€€€€€€€€ auth_type PASS } }",
        ] {
            let _ = convert("g", t, &|_| None);
        }
    }
}
