//! The control socket server (`hagw show` talks to it).
//!
//! Owns: the unix stream listener (stale socket unlinked; created 0600 under
//! a umask, so there is no moment it is open to others; only root and the
//! daemon's own user are served, checked by SO_PEERCRED), a
//! small fixed set of client connections, each reading ONE request line into
//! a bounded buffer before a deadline, then writing the answer and closing.
//! Never blocks the loop: everything is non-blocking and polled. Never
//! renders output itself (`cli::control::respond` does).

use crate::time::{Duration, Instant};
use log::{debug, warn};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};

/// Longest request line accepted.
pub const MAX_REQUEST: usize = 512;
/// Connections served at once; more wait in the listen backlog.
pub const MAX_CONNS: usize = 4;
/// A client must send its line (and take its answer) within this time.
pub const DEADLINE: Duration = Duration::from_secs(2);

enum Phase {
    Reading,
    Writing { out: Vec<u8>, pos: usize },
}

pub struct Conn {
    stream: UnixStream,
    buf: [u8; MAX_REQUEST],
    len: usize,
    deadline: Instant,
    phase: Phase,
}

/// What a connection wants from the loop.
pub enum Want {
    Read,
    Write,
}

pub struct ControlServer {
    listener: UnixListener,
    pub path: String,
    conns: Vec<Conn>,
    /// Clients refused by their credentials.
    pub refused: u64,
    pub errors: u64,
}

/// Whether the peer of `stream` is root or the daemon's own user
/// (SO_PEERCRED; a peer whose credentials cannot be read is refused).
fn peer_allowed(stream: &UnixStream) -> bool {
    let mut cred = libc::ucred {
        pid: 0,
        uid: u32::MAX,
        gid: u32::MAX,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` live across the call and describe the buffer.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    // SAFETY: geteuid(2) cannot fail.
    let me = unsafe { libc::geteuid() };
    rc == 0 && (cred.uid == 0 || cred.uid == me)
}

impl ControlServer {
    /// Bind at `path`, replacing a stale socket (never a regular file).
    pub fn bind(path: &str) -> io::Result<ControlServer> {
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if meta.file_type().is_socket() {
                // A live daemon would still answer; refuse to steal its socket.
                if UnixStream::connect(path).is_ok() {
                    return Err(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        format!("{path}: another daemon is answering on it"),
                    ));
                }
                std::fs::remove_file(path)?;
            } else {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{path} exists and is not a socket"),
                ));
            }
        }
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        // SAFETY: umask(2) only swaps the process mask; one thread, and the
        // old mask is restored right after the bind.
        let old = unsafe { libc::umask(0o177) };
        let bound = UnixListener::bind(path);
        // SAFETY: as above.
        unsafe { libc::umask(old) };
        let listener = bound?;
        // Belt and braces (a filesystem that ignores the umask).
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        listener.set_nonblocking(true)?;
        Ok(ControlServer {
            listener,
            path: path.to_string(),
            conns: Vec::with_capacity(MAX_CONNS),
            errors: 0,
            refused: 0,
        })
    }

    pub fn listener_fd(&self) -> RawFd {
        self.listener.as_raw_fd()
    }

    /// True when there is room to accept another connection.
    pub fn can_accept(&self) -> bool {
        self.conns.len() < MAX_CONNS
    }

    /// The client connections and what each waits for (for poll).
    pub fn conn_fds(&self) -> impl Iterator<Item = (RawFd, Want)> + '_ {
        self.conns.iter().map(|c| {
            let want = match c.phase {
                Phase::Reading => Want::Read,
                Phase::Writing { .. } => Want::Write,
            };
            (c.stream.as_raw_fd(), want)
        })
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.conns.iter().map(|c| c.deadline).min()
    }

    /// Accept what is waiting (bounded by free slots).
    pub fn accept(&mut self, now: Instant) {
        while self.conns.len() < MAX_CONNS {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if !peer_allowed(&stream) {
                        self.refused += 1;
                        warn!(
                            "control: refused a client that is neither root nor the daemon's user ({} refused)",
                            self.refused
                        );
                        continue;
                    }
                    if let Err(e) = stream.set_nonblocking(true) {
                        self.errors += 1;
                        warn!("control: {e}");
                        continue;
                    }
                    self.conns.push(Conn {
                        stream,
                        buf: [0; MAX_REQUEST],
                        len: 0,
                        deadline: now + DEADLINE,
                        phase: Phase::Reading,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    self.errors += 1;
                    warn!("control: accept: {e}");
                    break;
                }
            }
        }
    }

    /// Make progress on every connection: read lines, answer complete ones
    /// with `answer(line)`, write, close finished or overdue ones.
    pub fn serve(&mut self, now: Instant, mut answer: impl FnMut(&str) -> Vec<u8>) {
        let mut i = 0;
        while i < self.conns.len() {
            let done = match self.conns.get_mut(i) {
                Some(c) => step(c, now, &mut answer, &mut self.errors),
                None => true,
            };
            if done {
                self.conns.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Returns true when the connection is finished (answered, failed or overdue).
fn step(
    c: &mut Conn,
    now: Instant,
    answer: &mut impl FnMut(&str) -> Vec<u8>,
    errors: &mut u64,
) -> bool {
    if let Phase::Reading = c.phase {
        loop {
            let Some(free) = c.buf.get_mut(c.len..) else {
                return true;
            };
            if free.is_empty() {
                let out = b"error\nrequest too long\n".to_vec();
                c.phase = Phase::Writing { out, pos: 0 };
                break;
            }
            match c.stream.read(free) {
                Ok(0) => {
                    // EOF before a newline: take what we have as the line.
                    if c.len == 0 {
                        return true;
                    }
                    let line =
                        String::from_utf8_lossy(c.buf.get(..c.len).unwrap_or(&[])).into_owned();
                    c.phase = Phase::Writing {
                        out: answer(&line),
                        pos: 0,
                    };
                    break;
                }
                Ok(n) => {
                    let start = c.len;
                    c.len = c.len.saturating_add(n).min(MAX_REQUEST);
                    let fresh = c.buf.get(start..c.len).unwrap_or(&[]);
                    if let Some(off) = fresh.iter().position(|&b| b == b'\n') {
                        let end = start.saturating_add(off);
                        let line =
                            String::from_utf8_lossy(c.buf.get(..end).unwrap_or(&[])).into_owned();
                        debug!(
                            "control: request \"{}\"",
                            crate::cli::show::printable(&line)
                        );
                        c.phase = Phase::Writing {
                            out: answer(&line),
                            pos: 0,
                        };
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    *errors += 1;
                    return true;
                }
            }
        }
    }
    if let Phase::Writing { out, pos } = &mut c.phase {
        loop {
            let Some(rest) = out.get(*pos..) else {
                return true;
            };
            if rest.is_empty() {
                return true;
            }
            match c.stream.write(rest) {
                Ok(0) => return true,
                Ok(n) => *pos = pos.saturating_add(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    *errors += 1;
                    return true;
                }
            }
        }
    }
    if now >= c.deadline {
        *errors += 1;
        debug!("control: client too slow; closed");
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(tag: &str) -> String {
        std::env::temp_dir()
            .join(format!("hagw-ctl-{tag}-{}.sock", std::process::id()))
            .to_string_lossy()
            .into_owned()
    }

    /// Read until EOF or error (a peer closing with unread input resets).
    fn read_lenient(c: &mut UnixStream) -> String {
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = c.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8(out).unwrap()
    }

    /// Serve until every accepted client is finished (bounded: 5 s).
    fn pump(s: &mut ControlServer, now: Instant) {
        let start = std::time::Instant::now();
        let mut served = false;
        while start.elapsed() < std::time::Duration::from_secs(5) {
            s.accept(now);
            let before = s.conn_fds().count();
            s.serve(now, |line| format!("ok\n[{line}]\n").into_bytes());
            served |= before > 0;
            if served && s.conn_fds().count() == 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    #[test]
    fn answers_one_line_and_closes() {
        let p = path("a");
        let mut s = ControlServer::bind(&p).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mut c = UnixStream::connect(&p).unwrap();
        c.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        c.write_all(b"vrrp summary\nignored").unwrap();
        pump(&mut s, Instant::from_secs(1));
        assert_eq!(read_lenient(&mut c), "ok\n[vrrp summary]\n");
        drop(s);
        assert!(
            std::fs::symlink_metadata(&p).is_err(),
            "socket removed on drop"
        );
    }

    /// A client of another user is refused by SO_PEERCRED even when the
    /// socket file is opened to everyone (root only: it needs setuid).
    #[test]
    fn other_users_are_refused_by_their_credentials() {
        // Real root only: under qemu-user the tests run as root of a user
        // namespace, where "nobody" is not a uid the kernel can switch to.
        let init_ns = std::fs::read_to_string("/proc/self/uid_map")
            .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"]);
        // SAFETY: geteuid(2) cannot fail.
        if unsafe { libc::geteuid() } != 0 || !init_ns {
            eprintln!(
                "skipped: needs root in the initial user namespace (a client running as nobody)"
            );
            return;
        }
        let p = path("cred");
        let mut s = ControlServer::bind(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
        let sock = p.clone();
        let client = std::thread::spawn(move || {
            let child = std::process::Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .args([
                    "sh",
                    "-c",
                    "printf 'vrrp\n' | nc -U -w 3 \"$0\"; echo rc=$?",
                    &sock,
                ])
                .output();
            child.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        });
        let start = std::time::Instant::now();
        while !client.is_finished() && start.elapsed() < std::time::Duration::from_secs(10) {
            s.accept(Instant::from_secs(1));
            s.serve(Instant::from_secs(1), |_| b"ok\n".to_vec());
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        match client.join().unwrap() {
            Ok(out) => {
                assert!(!out.contains("ok"), "nobody was answered: {out}");
                assert_eq!(s.refused, 1);
            }
            Err(e) => eprintln!("skipped: setpriv not available ({e})"),
        }
    }

    #[test]
    fn too_long_and_slow_clients() {
        let p = path("b");
        let mut s = ControlServer::bind(&p).unwrap();
        let mut long = UnixStream::connect(&p).unwrap();
        long.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        long.write_all(&[b'x'; MAX_REQUEST + 10]).unwrap();
        pump(&mut s, Instant::from_secs(1));
        let slow = UnixStream::connect(&p).unwrap();
        s.accept(Instant::from_secs(1));
        assert_eq!(read_lenient(&mut long), "error\nrequest too long\n");
        // The silent client is closed at its deadline.
        assert!(s.next_deadline().is_some());
        s.serve(Instant::from_secs(100), |_| Vec::new());
        assert!(s.next_deadline().is_none());
        drop(slow);
    }

    #[test]
    fn stale_socket_replaced_live_one_refused() {
        let p = path("c");
        {
            let _stale = UnixListener::bind(&p).unwrap();
        } // listener closed, file stays
        let s = ControlServer::bind(&p).unwrap();
        assert!(
            ControlServer::bind(&p).is_err(),
            "live socket must not be stolen"
        );
        drop(s);
        let f = path("d");
        std::fs::write(&f, "x").unwrap();
        assert!(ControlServer::bind(&f).is_err());
        std::fs::remove_file(&f).unwrap();
    }
}
