//! SIGTERM/SIGINT/SIGHUP/SIGCHLD delivered through a signalfd.
//!
//! Owns: blocking those signals for the process and reading them as data in
//! the poll loop. Never: runs code in a signal handler.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    pub terminate: bool,
    pub reload: bool,
    pub child: bool,
}

pub struct Signals {
    fd: OwnedFd,
}

const SIGNALS: [libc::c_int; 4] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGCHLD];

impl Signals {
    /// Block the signals and open a non-blocking signalfd for them.
    /// Children spawned later get an empty mask from std's spawn.
    pub fn new() -> io::Result<Signals> {
        // SAFETY: sigset_t is initialised by sigemptyset before use; the
        // calls only touch the set we own and the thread's mask.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in SIGNALS {
                libc::sigaddset(&mut set, s);
            }
            let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            // A signal whose disposition is SIG_IGN is discarded before it
            // reaches the signalfd: started under nohup, SIGHUP (reload)
            // would be lost. Blocked, the default action never runs.
            for s in SIGNALS {
                libc::signal(s, libc::SIG_DFL);
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Signals {
                fd: OwnedFd::from_raw_fd(fd),
            })
        }
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Read every queued signal (bounded) and say which kinds arrived.
    pub fn drain(&self) -> Pending {
        let mut p = Pending::default();
        for _ in 0..64 {
            // SAFETY: signalfd_siginfo is plain old data.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: info is valid for `size` bytes.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    &mut info as *mut libc::signalfd_siginfo as *mut libc::c_void,
                    size,
                )
            };
            if usize::try_from(n).ok() != Some(size) {
                break;
            }
            match info.ssi_signo as libc::c_int {
                libc::SIGTERM | libc::SIGINT => p.terminate = true,
                libc::SIGHUP => p.reload = true,
                libc::SIGCHLD => p.child = true,
                _ => {}
            }
        }
        p
    }
}
