//! Starting notify scripts and health checks with posix_spawnp(3) instead of
//! std::process::Command, whose builder, environment map (a BTreeMap of
//! OsStrings) and fork/exec machinery cost ~13 kB of the mips binary.
//!
//! Owns: the child's start state, as std sets it up: stdin from /dev/null,
//! an empty signal mask (the daemon blocks signals for its signalfd) and
//! SIGPIPE back to its default (Rust ignores it); the rest is inherited
//! (stdout/stderr, environment, working directory; the daemon's own fds are
//! close-on-exec). Reaping and killing by pid.

use std::ffi::CString;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

unsafe extern "C" {
    static environ: *const *mut libc::c_char;
}

/// A started child process (not waited for on drop, like std's `Child`).
#[derive(Debug)]
pub struct Child {
    pid: libc::pid_t,
}

impl Child {
    /// Start `program` (looked up in PATH) with `args`. A program that
    /// cannot be executed is an error here, as with `Command::spawn`.
    pub fn spawn(program: &str, args: &[String]) -> io::Result<Child> {
        let c = |s: &str| CString::new(s).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput));
        let mut owned = Vec::with_capacity(args.len() + 1);
        owned.push(c(program)?);
        for a in args {
            owned.push(c(a)?);
        }
        let mut argv: Vec<*mut libc::c_char> =
            owned.iter().map(|s| s.as_ptr().cast_mut()).collect();
        argv.push(std::ptr::null_mut());
        let mut pid: libc::pid_t = 0;
        // SAFETY: the attribute and file-action objects are initialised
        // before use and destroyed after; argv is NULL-terminated and its
        // strings (`owned`) outlive the call; environ is the process's
        // environment, which this single-threaded program never changes
        // concurrently.
        let rc = unsafe {
            let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
            let mut at: libc::posix_spawnattr_t = std::mem::zeroed();
            let mut none: libc::sigset_t = std::mem::zeroed();
            let mut pipe: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigemptyset(&mut pipe);
            libc::sigaddset(&mut pipe, libc::SIGPIPE);
            let mut rc = libc::posix_spawn_file_actions_init(&mut fa);
            if rc == 0 {
                rc = libc::posix_spawnattr_init(&mut at);
                if rc == 0 {
                    let flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
                    rc = libc::posix_spawn_file_actions_addopen(
                        &mut fa,
                        0,
                        c"/dev/null".as_ptr(),
                        libc::O_RDONLY,
                        0,
                    );
                    rc = rc
                        .max(libc::posix_spawnattr_setsigmask(&mut at, &none))
                        .max(libc::posix_spawnattr_setsigdefault(&mut at, &pipe))
                        .max(libc::posix_spawnattr_setflags(
                            &mut at,
                            flags as libc::c_short,
                        ));
                    if rc == 0 {
                        rc =
                            libc::posix_spawnp(&mut pid, argv[0], &fa, &at, argv.as_ptr(), environ);
                    }
                    libc::posix_spawnattr_destroy(&mut at);
                }
                libc::posix_spawn_file_actions_destroy(&mut fa);
            }
            rc
        };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(Child { pid })
    }

    pub fn id(&self) -> u32 {
        self.pid as u32
    }

    /// The exit status if the child has finished (it is reaped), else None.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let mut status = 0;
        loop {
            // SAFETY: waitpid on our own child's pid with a valid out pointer.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            if r == self.pid {
                return Ok(Some(ExitStatus::from_raw(status)));
            }
            if r == 0 {
                return Ok(None);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// SIGKILL (reap it with `try_wait`).
    pub fn kill(&mut self) -> io::Result<()> {
        // SAFETY: kill(2) with our child's pid.
        if unsafe { libc::kill(self.pid, libc::SIGKILL) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Child;

    fn wait(c: &mut Child) -> std::process::ExitStatus {
        for _ in 0..500 {
            if let Some(s) = c.try_wait().unwrap() {
                return s;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("child {} still running after 5 s", c.id());
    }

    #[test]
    fn exit_codes_stdin_and_signal_state() {
        // Exit code, arguments, stdin at EOF (/dev/null), SIGPIPE default
        // and nothing blocked in the child (SigBlk/SigIgn of /proc).
        let script = "read x && exit 9; [ \"$1\" = 'a b' ] || exit 8; \
                      grep -q '^SigBlk:[[:space:]]*0*$' /proc/self/status || exit 7; \
                      ign=$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/self/status); \
                      [ $(( 0x$ign & 0x1000 )) = 0 ] || exit 6; exit 3";
        let args = [
            "-c".to_string(),
            script.to_string(),
            "sh".to_string(),
            "a b".to_string(),
        ];
        // Block SIGUSR1 in this (test) thread, as the daemon blocks its
        // signals: the child must not inherit that.
        // SAFETY: sigset initialised by sigemptyset; this thread's mask only.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        let mut c = Child::spawn("sh", &args).unwrap();
        assert_eq!(wait(&mut c).code(), Some(3));
        assert!(
            Child::spawn("sh", &["-c".into(), "exit 0".into()])
                .is_ok_and(|mut c| wait(&mut c).success())
        );
    }

    #[test]
    fn missing_program_and_kill() {
        let e = Child::spawn("/nonexistent/hagw-no-such-program", &[]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        let mut c = Child::spawn("sleep", &["5".to_string()]).unwrap();
        assert!(c.try_wait().unwrap().is_none());
        c.kill().unwrap();
        let s = wait(&mut c);
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&s),
            Some(libc::SIGKILL)
        );
    }
}
