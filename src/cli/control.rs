//! The control-socket protocol used by `hagw show`.
//!
//! Protocol (unix stream socket, one request per connection): the client
//! writes one request line — the words after `hagw show` joined by spaces,
//! plus ` --json` if given, then `\n` — and reads until EOF. The daemon
//! answers `ok\n` followed by the text to print, or `error\n` followed by a
//! one-line message. The daemon's side of the socket lives in `daemon` and
//! calls `respond` here; this module owns the client side. Never touches
//! packets or engine state beyond reading a `Snapshot`.

use super::ShowArgs;
use crate::engine::Snapshot;
use crate::time::Instant;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Where the daemon listens when neither `--socket` nor `-c` says otherwise.
pub const DEFAULT_SOCKET: &str = "/var/run/hagw.sock";

/// Longest request line the daemon needs to accept (the client never sends
/// more); a daemon may close connections that send more without a newline.
pub const MAX_REQUEST: usize = 512;

/// Largest response the client reads (a bound against a runaway peer).
pub const MAX_RESPONSE: u64 = 16 << 20;

/// How long the client waits for the daemon to accept, read and answer.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// The daemon's answer to one request line, as bytes to write back.
pub fn respond(request_line: &str, snap: &Snapshot, now: Instant) -> Vec<u8> {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match super::show::answer_at(request_line.trim(), snap, now, wall) {
        Ok(text) => format!("ok\n{text}").into_bytes(),
        Err(msg) => format!("error\n{msg}\n").into_bytes(),
    }
}

/// A parsed response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Print this to stdout as is.
    Ok(Vec<u8>),
    /// The daemon refused the request; the message, without trailing newline.
    Error(String),
}

/// Why asking the daemon failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AskError {
    /// Nothing listens at the path (ENOENT, ECONNREFUSED): the reason text.
    NoDaemon(String),
    /// Anything else (permission, timeout, garbled answer): a full message.
    Other(String),
}

const CLOSED: &str = "the daemon closed the connection without an answer";

/// Split a response into `Reply`; `Err` if it is neither `ok` nor `error`.
pub fn parse_response(bytes: &[u8]) -> Result<Reply, String> {
    if let Some(body) = bytes.strip_prefix(b"ok\n") {
        Ok(Reply::Ok(body.to_vec()))
    } else if let Some(msg) = bytes.strip_prefix(b"error\n") {
        let msg = String::from_utf8_lossy(msg);
        Ok(Reply::Error(msg.trim_end().to_string()))
    } else if bytes.is_empty() {
        Err(CLOSED.to_string())
    } else {
        Err("garbled answer from the daemon".to_string())
    }
}

/// The request line for these words (no newline): words joined by single
/// spaces, plus ` --json`. Rejects control characters, which would break
/// the line protocol, and overlong requests.
pub fn request_line(words: &[String], json: bool) -> Result<String, String> {
    if words.iter().any(|w| w.chars().any(char::is_control)) {
        return Err("request words must not contain control characters".to_string());
    }
    let mut line = words.join(" ");
    if json {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str("--json");
    }
    if line.len() >= MAX_REQUEST {
        return Err(format!("request longer than {MAX_REQUEST} bytes"));
    }
    Ok(line)
}

/// io::Error text without Rust's ` (os error N)` suffix.
fn reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Connect to `path`, send `line` and read the whole answer.
pub fn ask(path: &str, line: &str, timeout: Duration) -> Result<Reply, AskError> {
    let mut stream = UnixStream::connect(path).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ECONNREFUSED) => AskError::NoDaemon(reason(&e)),
        _ => AskError::Other(format!("cannot connect to {path}: {}", reason(&e))),
    })?;
    let io_err = |what: &str, e: std::io::Error| {
        use std::io::ErrorKind::{BrokenPipe, ConnectionReset};
        if matches!(e.kind(), BrokenPipe | ConnectionReset) {
            return AskError::Other(format!("{CLOSED} ({path})"));
        }
        let r = match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                format!("no answer within {} s", timeout.as_secs())
            }
            _ => reason(&e),
        };
        AskError::Other(format!("{what} {path}: {r}"))
    };
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|_| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| io_err("cannot set timeouts on", e))?;
    let mut req = Vec::with_capacity(line.len() + 1);
    req.extend_from_slice(line.as_bytes());
    req.push(b'\n');
    stream
        .write_all(&req)
        .map_err(|e| io_err("cannot send request to", e))?;
    // Half-close so a daemon reading to EOF also sees the end of the request.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    (&mut stream)
        .take(MAX_RESPONSE)
        .read_to_end(&mut answer)
        .map_err(|e| io_err("cannot read answer from", e))?;
    parse_response(&answer).map_err(|m| AskError::Other(format!("{m} ({path})")))
}

/// The control socket to use: `--socket`, else the config's
/// `control_socket` when `-c FILE` is given, else `DEFAULT_SOCKET`.
pub fn socket_path(args: &ShowArgs) -> Result<String, String> {
    if let Some(s) = &args.socket {
        return Ok(s.clone());
    }
    if let Some(file) = &args.config {
        return match crate::config::load(file) {
            Ok(cfg) => Ok(cfg.globals.control_socket),
            Err(errors) => {
                let first = errors
                    .first()
                    .map_or_else(|| format!("{file}: invalid"), |e| e.to_string());
                Err(format!(
                    "cannot take the control socket from {file}: {first}"
                ))
            }
        };
    }
    Ok(DEFAULT_SOCKET.to_string())
}

/// Run `hagw show …`: connect, ask, print; returns the exit code:
/// 0 answered, 1 refused or failed, 3 no daemon running.
pub fn show_command(args: &ShowArgs) -> i32 {
    if args.what.is_empty() {
        // Nothing to ask the daemon; say what could be asked.
        eprintln!("hagw: show what? known views: {}", super::show::VIEWS);
        return 1;
    }
    let path = match socket_path(args) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("hagw: {msg}");
            return 1;
        }
    };
    let line = match request_line(&args.what, args.json) {
        Ok(l) => l,
        Err(msg) => {
            eprintln!("hagw: {msg}");
            return 1;
        }
    };
    match ask(&path, &line, CLIENT_TIMEOUT) {
        Ok(Reply::Ok(body)) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(&body).and_then(|_| out.flush()) {
                Ok(()) => 0,
                Err(e) => {
                    // e.g. `hagw show metrics | head`: not worth a message.
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        0
                    } else {
                        eprintln!("hagw: cannot write output: {}", reason(&e));
                        1
                    }
                }
            }
        }
        Ok(Reply::Error(msg)) => {
            eprintln!("hagw: {msg}");
            1
        }
        Err(AskError::NoDaemon(r)) => {
            eprintln!("hagw: no daemon running (cannot connect to {path}: {r})");
            3
        }
        Err(AskError::Other(msg)) => {
            eprintln!("hagw: {msg}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> Snapshot {
        Snapshot {
            reload_kept: None,
            dataplane: None,
            sync: None,
            bfd: None,
            tracks: Vec::new(),
            groups: Vec::new(),
            ports: Vec::new(),
        }
    }

    #[test]
    fn respond_frames_ok_and_error() {
        let ok = respond("vrrp summary\n", &empty(), Instant::ZERO);
        assert!(ok.starts_with(b"ok\nInterface  VRRP Group"));
        let Reply::Ok(body) = parse_response(&ok).unwrap() else {
            panic!()
        };
        assert!(body.ends_with(b"----------\n"));
        let err = respond("bogus", &empty(), Instant::ZERO);
        assert!(err.starts_with(b"error\nunknown view `bogus`"));
        assert!(err.ends_with(b"\n"));
        assert_eq!(err.iter().filter(|b| **b == b'\n').count(), 2);
        let Reply::Error(msg) = parse_response(&err).unwrap() else {
            panic!()
        };
        assert!(msg.starts_with("unknown view `bogus`; known views: vrrp summary"));
    }

    #[test]
    fn garbage_requests_never_panic_and_always_frame() {
        use crate::config::Ipv4Cidr;
        use crate::vrrp::{GroupCounters, GroupStatus, VrrpState};
        let snap = Snapshot {
            reload_kept: None,
            dataplane: None,
            sync: None,
            bfd: None,
            tracks: Vec::new(),
            groups: vec![GroupStatus {
                name: "g".into(),
                interface: "lan".into(),
                interface_up: true,
                vrid: 1,
                version: 3,
                state: VrrpState::Master,
                address_owner: true,
                priority: 255,
                configured_priority: 255,
                advert_interval_cs: 4095,
                master_advert_interval_cs: 0,
                auth_type: "none",
                preempt: true,
                preempt_delay_secs: 3600,
                vips: vec![Ipv4Cidr {
                    addr: [10, 0, 0, 1].into(),
                    prefix_len: 32,
                }],
                source_address: [10, 0, 0, 1].into(),
                master_router: None,
                master_priority: None,
                sync_group: None,
                last_transition: Some(std::time::Duration::MAX),
                counters: GroupCounters {
                    adverts_rx: u64::MAX,
                    rx_ttl_error: u64::MAX,
                    rx_auth_error: u64::MAX,
                    ..GroupCounters::default()
                },
            }],
            ports: Vec::new(),
        };
        let words = [
            "vrrp",
            "summary",
            "interface",
            "lan",
            "--json",
            "metrics",
            "interfaces",
            "detail",
            "\0",
            "\n",
            "\u{202e}",
            "\u{7f}",
            "--",
            "-",
            "",
        ];
        // xorshift: deterministic, no dev-dependency.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..5000 {
            let mut req = String::new();
            for _ in 0..(next() % 6) {
                if next() % 4 == 0 {
                    let bytes: Vec<u8> = (0..next() % 12).map(|_| next() as u8).collect();
                    req.push_str(&String::from_utf8_lossy(&bytes));
                } else {
                    req.push_str(words[(next() % words.len() as u64) as usize]);
                }
                req.push(' ');
            }
            let r = respond(&req, &snap, Instant::from_micros(next()));
            match parse_response(&r).unwrap() {
                Reply::Ok(body) => assert!(body.ends_with(b"\n") && body.len() > 1, "{req:?}"),
                // An error is exactly one line, free of control characters.
                Reply::Error(m) => assert!(!m.chars().any(char::is_control), "{req:?}: {m:?}"),
            }
        }
    }

    #[test]
    fn garbled_responses_are_errors() {
        assert!(parse_response(b"").is_err());
        assert!(parse_response(b"ok").is_err());
        assert!(parse_response(b"OK\nx").is_err());
        assert!(parse_response(b"\x00\xff").is_err());
        assert_eq!(parse_response(b"ok\n"), Ok(Reply::Ok(Vec::new())));
        assert_eq!(
            parse_response(b"error\nno such view\n"),
            Ok(Reply::Error("no such view".into()))
        );
    }

    #[test]
    fn request_lines() {
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            request_line(&w(&["vrrp", "summary"]), false).unwrap(),
            "vrrp summary"
        );
        assert_eq!(
            request_line(&w(&["vrrp", "interface", "lan"]), true).unwrap(),
            "vrrp interface lan --json"
        );
        assert_eq!(request_line(&w(&[]), true).unwrap(), "--json");
        assert!(request_line(&w(&["vrrp\nmetrics"]), false).is_err());
        assert!(request_line(&w(&[&"x".repeat(600)]), false).is_err());
    }

    #[test]
    fn socket_path_precedence() {
        let args = |socket: Option<&str>, config: Option<&str>| ShowArgs {
            what: vec![],
            json: false,
            config: config.map(String::from),
            socket: socket.map(String::from),
        };
        assert_eq!(socket_path(&args(None, None)).unwrap(), DEFAULT_SOCKET);
        assert_eq!(
            socket_path(&args(Some("/tmp/x.sock"), Some("/nonexistent"))).unwrap(),
            "/tmp/x.sock"
        );
        let e = socket_path(&args(None, Some("/nonexistent/hagw"))).unwrap_err();
        assert!(e.starts_with("cannot take the control socket from /nonexistent/hagw: /nonexistent/hagw:0: cannot read"), "{e}");
    }
}
