//! libuci compatibility: one row per behaviour of OpenWrt's libuci (what
//! `uci` does with the same text, observed with uci/libuci and listed in
//! issue 13), applied to the canonical example. hagw must accept what libuci
//! accepts and reject what it rejects, except where it is deliberately
//! stricter (a repeated option, a repeated section), where its message says
//! why. Each row runs through the library and through `hagw check-config`.

mod common;

use common::{TempDir, check_config};
use hagw::config::{Config, Role, parse_str};

const BASE: &str = include_str!("fixtures/spec-example.uci");

enum Want {
    /// Accepted; the check holds on the parsed config.
    Ok(fn(&Config) -> bool),
    /// Rejected at the line containing `at` (line 1 when empty), with `phrase`.
    Err {
        at: &'static str,
        phrase: &'static str,
    },
}

struct Row {
    /// What libuci does.
    libuci: &'static str,
    text: fn() -> String,
    want: Want,
}

fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} not in the example");
    BASE.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    if needle.is_empty() {
        return 1;
    }
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"))
}

fn nat_desc(c: &Config) -> &str {
    c.nat_source[0].description.as_deref().unwrap_or("")
}

const LAN: &str = "config interface 'lan'\n\toption device 'lan0'\n\toption role 'lan'\n";
const DESC: &str = "\toption description 'LAN to Internet'\n";

fn rows() -> Vec<Row> {
    vec![
        Row {
            libuci: "accepts ';' between statements on one line",
            text: || {
                edit(
                    LAN,
                    "config interface 'lan'; option device 'lan0';option role 'lan'\n",
                )
            },
            want: Want::Ok(|c| {
                let i = c.interface("lan").unwrap();
                i.device == "lan0" && i.role == Role::Lan
            }),
        },
        Row {
            libuci: "keeps ';' inside quotes as text",
            text: || edit(DESC, "\toption description 'LAN; Internet'\n"),
            want: Want::Ok(|c| nat_desc(c) == "LAN; Internet"),
        },
        Row {
            libuci: "continues a single-quoted value over lines (newline kept)",
            text: || edit(DESC, "\toption description 'LAN to\nInternet'\n"),
            // Later sections keep their true line numbers.
            want: Want::Ok(|c| {
                nat_desc(c) == "LAN to\nInternet"
                    && c.conntrack_sync.as_ref().unwrap().line
                        == line_of(BASE, "config conntrack_sync") + 1
            }),
        },
        Row {
            libuci: "continues a double-quoted value over lines",
            text: || edit(DESC, "\toption description \"LAN\nto\nInternet\"\n"),
            want: Want::Ok(|c| nat_desc(c) == "LAN\nto\nInternet"),
        },
        Row {
            libuci: "joins adjacent quoted and bare parts into one word",
            text: || edit(DESC, "\toption description 'LAN'\" to \"Internet\n"),
            want: Want::Ok(|c| nat_desc(c) == "LAN to Internet"),
        },
        Row {
            libuci: "drops `option x` given no value",
            text: || {
                edit(
                    "\toption priority '200'\n",
                    "\toption priority '200'\n\toption garp_repeat\n",
                )
            },
            want: Want::Ok(|c| c.vrrp_groups[0].priority == 200),
        },
        Row {
            libuci: "treats `config t ''` as an anonymous section",
            text: || edit("config route\n", "config route ''\n"),
            want: Want::Ok(|c| c.routes.len() == 1),
        },
        Row {
            libuci: "accepts and ignores `package NAME`",
            text: || format!("package hagw\n\n{BASE}"),
            want: Want::Ok(|c| c.interfaces.len() == 3),
        },
        Row {
            libuci: "treats CR as blank (CRLF files)",
            text: || BASE.replace('\n', "\r\n"),
            want: Want::Ok(|c| c.interface("wan").unwrap().device == "wan0"),
        },
        Row {
            libuci: "ends a statement at '#' (comment after a value)",
            text: || {
                edit(
                    "\toption priority '200'\n",
                    "\toption priority '200' # the primary\n",
                )
            },
            want: Want::Ok(|c| c.vrrp_groups[0].priority == 200),
        },
        Row {
            libuci: "rejects a section name reused with another type ('section of different type overwrites prior section with same name')",
            text: || {
                edit(
                    "config conntrack_sync 'ha_sync'",
                    "config conntrack_sync 'sync'",
                )
            },
            want: Want::Err {
                at: "config conntrack_sync 'sync'",
                phrase: "section name 'sync' is already used by config interface on line 16; libuci keeps one namespace",
            },
        },
        Row {
            libuci: "merges a repeated section of the same name and type (hagw refuses, saying so)",
            text: || {
                format!(
                    "{BASE}\nconfig interface 'lan' # again\n\toption address '192.168.10.3/24'\n"
                )
            },
            want: Want::Err {
                at: "# again",
                phrase: "already defined on line 6; libuci would merge the two sections",
            },
        },
        Row {
            libuci: "keeps the last of a repeated option (hagw refuses, saying so)",
            text: || {
                edit(
                    "\toption priority '200'\n",
                    "\toption priority '200'\n\toption priority '100'\n",
                )
            },
            want: Want::Err {
                at: "option priority '100'",
                phrase: "given twice (first on line 30); libuci would silently keep the last one",
            },
        },
        Row {
            libuci: "rejects a UTF-8 BOM ('invalid command' at line 1)",
            text: || format!("\u{feff}{BASE}"),
            want: Want::Err {
                at: "",
                phrase: "byte order mark",
            },
        },
        Row {
            libuci: "rejects an unterminated quote (at end of file)",
            text: || format!("{BASE}\toption auth_key 'abc\n"),
            want: Want::Err {
                at: "option auth_key 'abc",
                phrase: "unterminated single quote",
            },
        },
        Row {
            libuci: "rejects a section name with other characters than [A-Za-z0-9_]",
            text: || edit("config interface 'wan'", "config interface 'w-an'"),
            want: Want::Err {
                at: "config interface 'w-an'",
                phrase: "invalid section name 'w-an'",
            },
        },
        Row {
            libuci: "rejects an unknown command word ('invalid command')",
            text: || edit("\toption role 'wan'\n", "\topton role 'wan'\n"),
            want: Want::Err {
                at: "opton role",
                phrase: "unknown keyword 'opton'",
            },
        },
        Row {
            libuci: "rejects an option before any section",
            text: || format!("option node_id '1'\n{BASE}"),
            want: Want::Err {
                at: "",
                phrase: "outside a section",
            },
        },
    ]
}

/// Each libuci behaviour, through the library and through the binary.
#[test]
fn libuci_behaviours() {
    let tmp = TempDir::new("libuci", "table");
    let rows = rows();
    assert!(rows.len() >= 18);
    for (n, row) in rows.iter().enumerate() {
        let text = (row.text)();
        let file = tmp.path(&format!("row{n}.uci"));
        std::fs::write(&file, &text).unwrap();
        let (code, _, stderr) = check_config(&file);
        match &row.want {
            Want::Ok(check) => {
                let c = parse_str("t.uci", &text)
                    .unwrap_or_else(|e| panic!("row {n} ({}): {e:#?}", row.libuci));
                assert!(check(&c), "row {n} ({}): check failed", row.libuci);
                assert_eq!(code, Some(0), "row {n} ({}): {stderr}", row.libuci);
            }
            Want::Err { at, phrase } => {
                let errs = parse_str("t.uci", &text)
                    .err()
                    .unwrap_or_else(|| panic!("row {n} ({}): accepted", row.libuci));
                assert_eq!(errs.len(), 1, "row {n} ({}): {errs:#?}", row.libuci);
                let e = &errs[0];
                assert_eq!(e.line, line_of(&text, at), "row {n} ({}): {e}", row.libuci);
                assert!(e.message.contains(phrase), "row {n} ({}): {e}", row.libuci);
                assert_eq!(code, Some(1), "row {n}");
                let want = format!("{}:{}: ", file.display(), e.line);
                assert!(stderr.starts_with(&want), "row {n}: {stderr}");
            }
        }
    }
}

/// The example configs and the fixture use each section name once per file
/// (what `uci` needs to load them at all).
#[test]
fn shipped_configs_use_each_section_name_once() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = vec![
        format!("{root}/tests/fixtures/spec-example.uci"),
        format!("{root}/board/openwrt/hagw.config"),
    ];
    for e in std::fs::read_dir(format!("{root}/board/examples")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "uci") {
            files.push(p.display().to_string());
        }
    }
    assert!(files.len() > 10);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let mut seen = std::collections::HashSet::new();
        for l in text.lines() {
            let w: Vec<&str> = l.split_whitespace().collect();
            if let ["config", _, name] = w[..] {
                assert!(seen.insert(name.trim_matches('\'')), "{f}: {name} twice");
            }
        }
        assert!(hagw::config::load(f).is_ok(), "{f}");
    }
}
