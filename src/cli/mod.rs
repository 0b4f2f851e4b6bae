//! Command line: `run`, `check-config`, `version`, `show …` (`args`), and the
//! rendering of `show` output (`show`). Owns process exit codes and what the
//! operator reads; never touches packets.

mod args;
pub mod control;
mod device;
pub mod json;
#[cfg(feature = "convert-keepalived")]
pub mod keepalived;
pub mod logger;
pub mod metrics;
pub mod show;
pub mod stats;
pub mod tracks;
pub mod views;
pub mod vrrp;

/// hagw: high-availability gateway (VRRP, stateful firewall/NAT, conntrack sync).
#[derive(Debug)]
pub struct Args {
    /// print the version and target, then exit
    pub version: bool,
    pub cmd: Option<Cmd>,
}

#[derive(Debug)]
pub enum Cmd {
    Run(RunArgs),
    CheckConfig(CheckConfigArgs),
    Version(VersionArgs),
    Show(ShowArgs),
    #[cfg(feature = "convert-keepalived")]
    ConvertKeepalived(ConvertKeepalivedArgs),
}

#[cfg(feature = "convert-keepalived")]
/// Print the /etc/config/hagw equivalent of a keepalived.conf's VRRP part
/// (vrrp_instance, vrrp_sync_group); warnings (FILE:LINE:) go to stderr.
#[derive(Debug)]
pub struct ConvertKeepalivedArgs {
    /// the keepalived config file
    pub file: String,
    /// DEVICE=A.B.C.D/LEN: a device's address for its interface section
    /// (default: the device's current IPv4 address on this machine)
    pub address: Vec<String>,
}

/// Run the daemon in the foreground (info/debug logs to stdout, warnings and errors to stderr).
#[derive(Debug)]
pub struct RunArgs {
    /// config file (UCI)
    pub config: String,
}

/// Validate a config file: exit 0 if valid, 1 with FILE:LINE: messages if not.
#[derive(Debug)]
pub struct CheckConfigArgs {
    /// config file (UCI)
    pub config: String,
}

/// Print the version and target triple.
#[derive(Debug)]
pub struct VersionArgs {}

/// Ask the running daemon: `show vrrp` (= `show vrrp summary`), `show vrrp interface NAME`,
/// `show vrrp detail`, `show vrrp statistics`, `show interfaces`, `show tracks`,
/// `show conntrack [statistics]`, `show nat rules`, `show firewall`, `show routes`,
/// `show conntrack-sync status|statistics|internal-cache|external-cache`, `show bfd`,
/// `show metrics` (Prometheus text). Exit 0 ok, 1 error, 3 no daemon running.
#[derive(Debug)]
pub struct ShowArgs {
    /// what to show: vrrp [summary] | vrrp interface NAME | vrrp detail | vrrp statistics | interfaces | tracks
    /// | conntrack [statistics] | nat rules | firewall | routes | conntrack-sync status|statistics|internal-cache|external-cache | bfd | metrics
    pub what: Vec<String>,
    /// machine-readable JSON output
    pub json: bool,
    /// read the control socket path from this config file
    pub config: Option<String>,
    /// control socket path (default /var/run/hagw.sock)
    pub socket: Option<String>,
}

pub fn version_line() -> String {
    format!(
        "hagw {} ({})",
        env!("CARGO_PKG_VERSION"),
        env!("HAGW_TARGET")
    )
}

/// Entry point of the binary; returns the process exit code.
pub fn main() -> i32 {
    let mut argv = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.into_string() {
            Ok(s) => argv.push(s),
            Err(a) => {
                eprintln!("Invalid utf8: {}", a.to_string_lossy());
                return 1;
            }
        }
    }
    let args = match args::parse(&argv) {
        Ok(a) => a,
        Err(e) if e.help => {
            print!("{}", e.text);
            return 0;
        }
        Err(e) => {
            eprintln!("{}\nRun hagw --help for more information.", e.text);
            return 1;
        }
    };
    if args.version {
        println!("{}", version_line());
        return 0;
    }
    match args.cmd {
        None => {
            eprintln!("hagw: no command; try `hagw --help`");
            2
        }
        Some(Cmd::Version(_)) => {
            println!("{}", version_line());
            0
        }
        Some(Cmd::CheckConfig(a)) => check_config(&a.config),
        Some(Cmd::Run(a)) => crate::daemon::run(&a.config),
        Some(Cmd::Show(a)) => control::show_command(&a),
        #[cfg(feature = "convert-keepalived")]
        Some(Cmd::ConvertKeepalived(a)) => convert_keepalived(&a),
    }
}

#[cfg(feature = "convert-keepalived")]
fn convert_keepalived(a: &ConvertKeepalivedArgs) -> i32 {
    let text = match std::fs::read_to_string(&a.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("hagw: cannot read {}: {e}", a.file);
            return 1;
        }
    };
    let mut given = Vec::new();
    for s in &a.address {
        match s.split_once('=') {
            Some((d, c))
                if c.split_once('/').is_some_and(|(ip, len)| {
                    ip.parse::<std::net::Ipv4Addr>().is_ok()
                        && len.parse::<u8>().is_ok_and(|l| l <= 32)
                }) =>
            {
                given.push((d, c))
            }
            _ => {
                eprintln!("hagw: --address {s}: expected DEVICE=A.B.C.D/LEN");
                return 2;
            }
        }
    }
    let lookup = |dev: &str| {
        given
            .iter()
            .find(|(d, _)| *d == dev)
            .map(|(_, c)| c.to_string())
            .or_else(|| keepalived::system_address(dev))
    };
    match keepalived::convert(&a.file, &text, &lookup) {
        Ok(c) => {
            print!("{}", c.config);
            for w in &c.warnings {
                eprintln!("{w}");
            }
            0
        }
        Err(e) => {
            eprintln!("hagw: {e}");
            1
        }
    }
}

fn check_config(path: &str) -> i32 {
    match crate::config::load(path) {
        Ok(cfg) => {
            println!(
                "{path}: ok ({} interfaces, {} VRRP groups, {} routes, {} SNAT, {} DNAT rules)",
                cfg.interfaces.len(),
                cfg.vrrp_groups.len(),
                cfg.routes.len(),
                cfg.nat_source.len(),
                cfg.nat_destination.len()
            );
            0
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            1
        }
    }
}
