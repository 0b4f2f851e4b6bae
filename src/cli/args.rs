//! The command line, parsed by hand (argh's generated parser and its
//! runtime were ~10 kB of the MIPS binary): `hagw [--version] COMMAND
//! ARGS`, with argh's syntax, help texts and error messages (options
//! anywhere, `--` ends them, `--help` or `help` prints the usage, exit 1
//! with `Run hagw --help …` on a bad argument).
//!
//! Owns: turning argv into `Args`. Never: runs a command.

use super::{Args, CheckConfigArgs, Cmd, RunArgs, ShowArgs, VersionArgs};

const DEFAULT_CONFIG: &str = "/etc/config/hagw";

/// The top-level help: this head, then the optional commands' lines.
const HELP_TOP: &str = r#"Usage: hagw [--version] [<command>] [<args>]

hagw: high-availability gateway (VRRP, stateful firewall/NAT, conntrack sync).

Options:
  --version         print the version and target, then exit
  --help, help      display usage information

Commands:
  run               Run the daemon in the foreground (info/debug logs to stdout,
                    warnings and errors to stderr).
  check-config      Validate a config file: exit 0 if valid, 1 with FILE:LINE:
                    messages if not.
  version           Print the version and target triple.
  show              Ask the running daemon: `show vrrp` (= `show vrrp summary`),
                    `show vrrp interface NAME`, `show vrrp detail`, `show vrrp
                    statistics`, `show interfaces`, `show tracks`, `show
                    conntrack [statistics]`, `show nat rules`, `show firewall`,
                    `show routes`, `show conntrack-sync
                    status|statistics|internal-cache|external-cache`, `show
                    bfd`, `show metrics` (Prometheus text). Exit 0 ok, 1 error,
                    3 no daemon running.
"#;
#[cfg(feature = "convert-keepalived")]
const HELP_TOP_TAIL: &str = r#"  convert-keepalived
                    Print the /etc/config/hagw equivalent of a keepalived.conf's
                    VRRP part (vrrp_instance, vrrp_sync_group); warnings
                    (FILE:LINE:) go to stderr.

"#;
#[cfg(not(feature = "convert-keepalived"))]
const HELP_TOP_TAIL: &str = "\n";
const HELP_RUN: &str = r#"Usage: hagw run [-c <config>]

Run the daemon in the foreground (info/debug logs to stdout, warnings and errors to stderr).

Options:
  -c, --config      config file (UCI)
  --help, help      display usage information

"#;
const HELP_CHECK: &str = r#"Usage: hagw check-config [-c <config>]

Validate a config file: exit 0 if valid, 1 with FILE:LINE: messages if not.

Options:
  -c, --config      config file (UCI)
  --help, help      display usage information

"#;
const HELP_VERSION: &str = r#"Usage: hagw version

Print the version and target triple.

Options:
  --help, help      display usage information

"#;
const HELP_SHOW: &str = r#"Usage: hagw show [--json] [-c <config>] [--socket <socket>] [--] [<what...>]

Ask the running daemon: `show vrrp` (= `show vrrp summary`), `show vrrp interface NAME`, `show vrrp detail`, `show vrrp statistics`, `show interfaces`, `show tracks`, `show conntrack [statistics]`, `show nat rules`, `show firewall`, `show routes`, `show conntrack-sync status|statistics|internal-cache|external-cache`, `show bfd`, `show metrics` (Prometheus text). Exit 0 ok, 1 error, 3 no daemon running.

Positional Arguments:
  what              what to show: vrrp [summary] | vrrp interface NAME | vrrp
                    detail | vrrp statistics | interfaces | tracks | conntrack
                    [statistics] | nat rules | firewall | routes |
                    conntrack-sync
                    status|statistics|internal-cache|external-cache | bfd |
                    metrics

Options:
  --json            machine-readable JSON output
  -c, --config      read the control socket path from this config file
  --socket          control socket path (default /var/run/hagw.sock)
  --help, help      display usage information

"#;
#[cfg(feature = "convert-keepalived")]
const HELP_CK: &str = r#"Usage: hagw convert-keepalived [--address <address...>] [--] <file>

Print the /etc/config/hagw equivalent of a keepalived.conf's VRRP part (vrrp_instance, vrrp_sync_group); warnings (FILE:LINE:) go to stderr.

Positional Arguments:
  file              the keepalived config file

Options:
  --address         DEVICE=A.B.C.D/LEN: a device's address for its interface
                    section (default: the device's current IPv4 address on this
                    machine)
  --help, help      display usage information

"#;

/// Why parsing stopped early: the text to print and whether it is the
/// help (stdout, exit 0) or an error (stderr, exit 1).
pub struct Exit {
    pub text: String,
    pub help: bool,
}

fn error(parts: &[&str]) -> Exit {
    Exit {
        text: parts.concat(),
        help: false,
    }
}

/// One command's syntax: its options (name, slot; a slot below `values`
/// takes a value, one at or above it is a switch), whether slot 0 may
/// repeat, and its positionals.
struct Spec {
    help: &'static [&'static str],
    options: &'static [(&'static str, u8)],
    values: u8,
    repeat: bool,
    /// `Some(name)`: exactly one positional, required.
    positional: Option<&'static str>,
    /// Any number of positionals (`show`'s words).
    words: bool,
}

/// What a command's arguments filled: values per slot, switches, and the
/// positionals.
#[derive(Default)]
struct Parsed {
    values: [Vec<String>; 2],
    switches: [bool; 2],
    positionals: Vec<String>,
}

/// The subcommand `parse_one` stopped at: its index in `COMMANDS`, where
/// its arguments start, and whether help was asked for before it.
type Found = Option<(usize, usize, bool)>;

/// argh's loop for one command: `--help`/`help` anywhere before `--`
/// asks for the help (an option after it is an error), `--` ends the
/// options. `sub` names the subcommands that take the rest (top level).
fn parse_one(
    args: &[String],
    spec: &Spec,
    mut help: bool,
    sub: bool,
) -> Result<(Parsed, Found), Exit> {
    let mut p = Parsed::default();
    let mut ended = false;
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        let arg = arg.as_str();
        if !ended && (arg == "--help" || arg == "help") {
            help = true;
            continue;
        }
        if !ended && arg.starts_with('-') {
            if arg == "--" {
                ended = true;
                continue;
            }
            if help {
                return Err(error(&["Trailing arguments are not allowed after `help`."]));
            }
            let Some(&(_, slot)) = spec.options.iter().find(|(n, _)| *n == arg) else {
                return Err(error(&["Unrecognized argument: ", arg, "\n"]));
            };
            if slot >= spec.values {
                if let Some(s) = p.switches.get_mut(usize::from(slot - spec.values)) {
                    *s = true;
                }
                continue;
            }
            let Some(value) = args.get(i) else {
                return Err(error(&["No value provided for option '", arg, "'.\n"]));
            };
            i += 1;
            let Some(list) = p.values.get_mut(usize::from(slot)) else {
                continue;
            };
            if !list.is_empty() && !spec.repeat {
                return Err(error(&[
                    "Error parsing option '",
                    arg,
                    "' with value '",
                    value,
                    "': duplicate values provided\n",
                ]));
            }
            list.push(value.clone());
            continue;
        }
        if sub {
            if let Some(k) = COMMANDS.iter().position(|(n, _)| *n == arg) {
                return Ok((p, Some((k, i, help))));
            }
        }
        if sub || !(spec.words || spec.positional.is_some() && p.positionals.is_empty()) {
            return Err(error(&["Unrecognized argument: ", arg, "\n"]));
        }
        p.positionals.push(arg.to_string());
    }
    if help {
        return Err(Exit {
            text: spec.help.concat(),
            help: true,
        });
    }
    if let Some(name) = spec.positional {
        if p.positionals.is_empty() {
            return Err(error(&[
                "Required positional arguments not provided:\n    ",
                name,
                "\n",
            ]));
        }
    }
    Ok((p, None))
}

const CONFIG_OPTS: &[(&str, u8)] = &[("-c", 0), ("--config", 0)];

/// The subcommands by name, each with its syntax.
const COMMANDS: &[(&str, Spec)] = &[
    (
        "run",
        Spec {
            help: &[HELP_RUN],
            options: CONFIG_OPTS,
            values: 1,
            repeat: false,
            positional: None,
            words: false,
        },
    ),
    (
        "check-config",
        Spec {
            help: &[HELP_CHECK],
            options: CONFIG_OPTS,
            values: 1,
            repeat: false,
            positional: None,
            words: false,
        },
    ),
    (
        "version",
        Spec {
            help: &[HELP_VERSION],
            options: &[],
            values: 0,
            repeat: false,
            positional: None,
            words: false,
        },
    ),
    (
        "show",
        Spec {
            help: &[HELP_SHOW],
            options: &[("-c", 0), ("--config", 0), ("--socket", 1), ("--json", 2)],
            values: 2,
            repeat: false,
            positional: None,
            words: true,
        },
    ),
    #[cfg(feature = "convert-keepalived")]
    (
        "convert-keepalived",
        Spec {
            help: &[HELP_CK],
            options: &[("--address", 0)],
            values: 1,
            repeat: true,
            positional: Some("file"),
            words: false,
        },
    ),
];

/// Parse the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Args, Exit> {
    let top = Spec {
        help: &[HELP_TOP, HELP_TOP_TAIL],
        options: &[("--version", 0)],
        values: 0,
        repeat: false,
        positional: None,
        words: false,
    };
    let (p, sub) = parse_one(args, &top, false, true)?;
    let version = p.switches[0];
    let Some((k, at, help)) = sub else {
        return Ok(Args { version, cmd: None });
    };
    let (Some((_, spec)), Some(rest)) = (COMMANDS.get(k), args.get(at..)) else {
        return Ok(Args { version, cmd: None });
    };
    let (p, _) = parse_one(rest, spec, help, false)?;
    let [mut v0, mut v1] = p.values;
    let mut config = || v0.pop().unwrap_or_else(|| DEFAULT_CONFIG.to_string());
    let cmd = match k {
        0 => Cmd::Run(RunArgs { config: config() }),
        1 => Cmd::CheckConfig(CheckConfigArgs { config: config() }),
        2 => Cmd::Version(VersionArgs {}),
        3 => Cmd::Show(ShowArgs {
            what: p.positionals,
            json: p.switches[0],
            socket: v1.pop(),
            config: v0.pop(),
        }),
        #[cfg(feature = "convert-keepalived")]
        _ => Cmd::ConvertKeepalived(super::ConvertKeepalivedArgs {
            file: p.positionals.into_iter().next().unwrap_or_default(),
            address: v0,
        }),
        #[cfg(not(feature = "convert-keepalived"))]
        _ => Cmd::Version(VersionArgs {}),
    };
    Ok(Args {
        version,
        cmd: Some(cmd),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Args, Exit> {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&v)
    }

    fn err(args: &[&str]) -> (String, bool) {
        match run(args) {
            Err(e) => (e.text, e.help),
            Ok(a) => panic!("parsed: {a:?}"),
        }
    }

    #[test]
    fn show_takes_options_anywhere_and_words_in_order() {
        let Ok(Args {
            version: false,
            cmd: Some(Cmd::Show(s)),
        }) = run(&[
            "show",
            "--json",
            "vrrp",
            "--socket",
            "/s",
            "interface",
            "-c",
            "f",
            "lan",
        ])
        else {
            panic!()
        };
        assert_eq!(s.what, ["vrrp", "interface", "lan"]);
        assert!(s.json);
        assert_eq!(s.socket.as_deref(), Some("/s"));
        assert_eq!(s.config.as_deref(), Some("f"));
        // `--` ends the options: a word may start with a dash.
        let Ok(Args {
            cmd: Some(Cmd::Show(s)),
            ..
        }) = run(&["show", "--", "--json", "x"])
        else {
            panic!()
        };
        assert_eq!(s.what, ["--json", "x"]);
        assert!(!s.json);
    }

    #[test]
    fn config_defaults_and_version() {
        let Ok(Args {
            cmd: Some(Cmd::Run(r)),
            ..
        }) = run(&["run"])
        else {
            panic!()
        };
        assert_eq!(r.config, "/etc/config/hagw");
        let Ok(Args {
            cmd: Some(Cmd::CheckConfig(c)),
            ..
        }) = run(&["check-config", "--config", "/x"])
        else {
            panic!()
        };
        assert_eq!(c.config, "/x");
        assert!(matches!(
            run(&["--version"]),
            Ok(Args {
                version: true,
                cmd: None
            })
        ));
        assert!(matches!(
            run(&[]),
            Ok(Args {
                version: false,
                cmd: None
            })
        ));
    }

    #[test]
    fn help_anywhere_before_dashdash_prints_that_commands_help() {
        assert_eq!(err(&["--help"]), ([HELP_TOP, HELP_TOP_TAIL].concat(), true));
        assert_eq!(err(&["help"]), ([HELP_TOP, HELP_TOP_TAIL].concat(), true));
        assert_eq!(
            err(&["show", "vrrp", "help"]),
            (HELP_SHOW.to_string(), true)
        );
        assert_eq!(err(&["--help", "run"]), (HELP_RUN.to_string(), true));
        assert_eq!(
            err(&["help", "-c"]).0,
            "Trailing arguments are not allowed after `help`."
        );
    }

    #[test]
    fn argh_error_messages() {
        assert_eq!(err(&["bogus"]).0, "Unrecognized argument: bogus\n");
        assert_eq!(err(&["run", "x"]).0, "Unrecognized argument: x\n");
        assert_eq!(err(&["show", "-x"]).0, "Unrecognized argument: -x\n");
        assert_eq!(
            err(&["run", "-c"]).0,
            "No value provided for option '-c'.\n"
        );
        assert_eq!(
            err(&["show", "-c", "a", "--config", "b"]).0,
            "Error parsing option '--config' with value 'b': duplicate values provided\n"
        );
        assert!(!err(&["version", "x"]).1);
    }

    #[cfg(feature = "convert-keepalived")]
    #[test]
    fn convert_keepalived_needs_one_file_and_repeats_address() {
        let Ok(Args {
            cmd: Some(Cmd::ConvertKeepalived(c)),
            ..
        }) = run(&[
            "convert-keepalived",
            "--address",
            "a=1",
            "k.conf",
            "--address",
            "b=2",
        ])
        else {
            panic!()
        };
        assert_eq!(c.file, "k.conf");
        assert_eq!(c.address, ["a=1", "b=2"]);
        assert_eq!(
            err(&["convert-keepalived"]).0,
            "Required positional arguments not provided:\n    file\n"
        );
        assert_eq!(
            err(&["convert-keepalived", "a", "b"]).0,
            "Unrecognized argument: b\n"
        );
    }
}
