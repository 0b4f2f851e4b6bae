//! Transition scripts: `script GROUP STATE` on every VRRP state change (or
//! keepalived's order, `script INSTANCE GROUP STATE PRIORITY` with the state
//! in capitals, for a group with `notify_args 'keepalived'`), and on OpenWrt
//! `hotplug-call hagw` with ACTION=NOTIFY_<STATE>, GROUP, STATE, VRID,
//! INTERFACE (and keepalived's TYPE/NAME) in the environment, so scripts in
//! /etc/hotplug.d/hagw/ run on every change; and health-check scripts
//! (`config track` of type script) whose exit status the engine wants back.
//!
//! Owns: spawning scripts (never waiting for them in the loop), reaping them
//! on SIGCHLD with a non-blocking wait, killing one that runs too long, and a
//! bounded queue when too many run at once (overflow dropped and counted).
//! A check's result (exit 0 in time = success; killed, failed to start or
//! dropped = failure) is queued for `take_result`.
//! Never: decides states (the engine does).

use super::spawn::Child;
use crate::time::{Duration, Instant};
use log::{debug, info, warn};
use std::collections::VecDeque;

/// At most this many scripts run at once.
pub const MAX_RUNNING: usize = 8;
/// At most this many wait to start; more are dropped and counted.
pub const MAX_QUEUED: usize = 32;
/// A script still running after this long is killed.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);

struct Running {
    child: Child,
    what: String,
    deadline: Instant,
    killed: bool,
    /// A health check: the track's name.
    check: Option<String>,
}

struct Job {
    program: String,
    args: Vec<String>,
    /// A health check: (track name, timeout).
    check: Option<(String, Duration)>,
}

/// What a transition is, for the scripts it runs.
pub struct Transition<'a> {
    pub group: &'a str,
    pub state: &'static str,
    pub vrid: u8,
    pub interface: &'a str,
    pub priority: u8,
}

/// OpenWrt's hotplug dispatcher (runs /etc/hotplug.d/SUBSYSTEM/* in order).
pub const HOTPLUG_CALL: &str = "/sbin/hotplug-call";

pub struct Notifier {
    running: Vec<Running>,
    queue: VecDeque<Job>,
    pub dropped: u64,
    pub failed: u64,
    pub timeout: Duration,
    /// Finished health checks: (track name, success).
    results: VecDeque<(String, bool)>,
    /// `hotplug-call` to run on each transition (HOTPLUG_CALL when it exists).
    pub hotplug: Option<String>,
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier::new()
    }
}

impl Notifier {
    pub fn new() -> Notifier {
        Notifier {
            running: Vec::with_capacity(MAX_RUNNING),
            queue: VecDeque::with_capacity(MAX_QUEUED),
            dropped: 0,
            failed: 0,
            timeout: SCRIPT_TIMEOUT,
            results: VecDeque::new(),
            hotplug: std::path::Path::new(HOTPLUG_CALL)
                .exists()
                .then(|| HOTPLUG_CALL.to_string()),
        }
    }

    /// Run (or queue) `script group state`.
    pub fn notify(&mut self, now: Instant, script: &str, group: &str, state: &'static str) {
        self.submit(
            now,
            Job {
                program: script.to_string(),
                args: vec![group.to_string(), state.to_string()],
                check: None,
            },
        );
    }

    /// Run (or queue) the health check of track `track`: `command` split
    /// on whitespace (program and arguments, no shell), killed after
    /// `timeout`. Its result comes back through `take_result`.
    pub fn check(&mut self, now: Instant, track: &str, command: &str, timeout: Duration) {
        let mut words = command.split_whitespace().map(str::to_string);
        let program = words.next().unwrap_or_default();
        self.submit(
            now,
            Job {
                program,
                args: words.collect(),
                check: Some((track.to_string(), timeout)),
            },
        );
    }

    /// Run (or queue) `script INSTANCE GROUP STATE PRIORITY`, keepalived's
    /// argument order (state in capitals), for scripts written for keepalived.
    pub fn notify_keepalived(&mut self, now: Instant, script: &str, t: &Transition) {
        self.submit(
            now,
            Job {
                program: script.to_string(),
                args: vec![
                    "INSTANCE".to_string(),
                    t.group.to_string(),
                    t.state.to_ascii_uppercase(),
                    t.priority.to_string(),
                ],
                check: None,
            },
        );
    }

    /// A finished health check: (track name, success).
    pub fn take_result(&mut self) -> Option<(String, bool)> {
        self.results.pop_front()
    }

    /// Run (or queue) `hotplug-call hagw` for a transition, when available.
    /// The environment is set through `env VAR=value… hotplug-call hagw`
    /// (busybox has env): Command::envs would link std's environment
    /// map, several kB on mips.
    pub fn hotplug(&mut self, now: Instant, t: &Transition) {
        let Some(program) = self.hotplug.clone() else {
            return;
        };
        let state = t.state.to_ascii_uppercase();
        self.submit(
            now,
            Job {
                program: "env".to_string(),
                args: vec![
                    format!("ACTION=NOTIFY_{state}"),
                    format!("GROUP={}", t.group),
                    format!("STATE={}", t.state),
                    format!("VRID={}", t.vrid),
                    format!("INTERFACE={}", t.interface),
                    format!("PRIORITY={}", t.priority),
                    "TYPE=INSTANCE".to_string(),
                    format!("NAME={}", t.group),
                    program,
                    "hagw".to_string(),
                ],
                check: None,
            },
        );
    }

    fn submit(&mut self, now: Instant, job: Job) {
        if self.running.len() < MAX_RUNNING && self.queue.is_empty() {
            self.start(now, job);
        } else if self.queue.len() < MAX_QUEUED {
            self.queue.push_back(job);
        } else {
            self.dropped += 1;
            warn!(
                "notify: too many scripts pending; dropped `{} {}` ({} dropped)",
                job.program,
                job.args.join(" "),
                self.dropped
            );
            if let Some((track, _)) = job.check {
                self.results.push_back((track, false));
            }
        }
    }

    fn start(&mut self, now: Instant, job: Job) {
        let what = format!("{} {}", job.program, job.args.join(" "));
        let what = what.trim_end().to_string();
        let timeout = job.check.as_ref().map_or(self.timeout, |c| c.1);
        match Child::spawn(&job.program, &job.args) {
            Ok(child) => {
                if job.check.is_some() {
                    debug!("check: started `{what}` (pid {})", child.id());
                } else {
                    info!("notify: started `{what}` (pid {})", child.id());
                }
                self.running.push(Running {
                    child,
                    what,
                    deadline: now + timeout,
                    killed: false,
                    check: job.check.map(|c| c.0),
                });
            }
            Err(e) => {
                self.failed += 1;
                warn!("notify: cannot run `{what}`: {e}");
                if let Some((track, _)) = job.check {
                    self.results.push_back((track, false));
                }
            }
        }
    }

    /// Reap finished scripts (after SIGCHLD, or any time), kill overdue ones,
    /// start queued ones.
    pub fn poll(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.running.len() {
            let Some(r) = self.running.get_mut(i) else {
                break;
            };
            match r.child.try_wait() {
                Ok(Some(status)) => {
                    if let Some(track) = r.check.take() {
                        // A check failing is the news, not an error: the
                        // engine counts it and logs the track's transitions.
                        debug!("check: `{}` exited with {status}", r.what);
                        self.results
                            .push_back((track, status.success() && !r.killed));
                    } else if r.killed {
                        warn!(
                            "notify: `{}` killed after {} ms",
                            r.what,
                            self.timeout.as_millis() as u64
                        );
                    } else if !status.success() {
                        self.failed += 1;
                        warn!("notify: `{}` exited with {status}", r.what);
                    }
                    self.running.swap_remove(i);
                    continue;
                }
                Ok(None) => {
                    if !r.killed && now >= r.deadline {
                        warn!(
                            "notify: `{}` still running past its timeout; killing it",
                            r.what
                        );
                        self.failed += 1;
                        let _ = r.child.kill();
                        r.killed = true;
                    }
                }
                Err(e) => {
                    warn!("notify: wait for `{}` failed: {e}", r.what);
                    if let Some(track) = r.check.take() {
                        self.results.push_back((track, false));
                    }
                    self.running.swap_remove(i);
                    continue;
                }
            }
            i += 1;
        }
        while self.running.len() < MAX_RUNNING {
            let Some(job) = self.queue.pop_front() else {
                break;
            };
            self.start(now, job);
        }
    }

    /// The earliest kill deadline of a running script, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.running
            .iter()
            .filter(|r| !r.killed)
            .map(|r| r.deadline)
            .min()
    }

    pub fn running(&self) -> usize {
        self.running.len()
    }

    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn script(dir: &std::path::Path, body: &str) -> String {
        let p = dir.join(format!("s{}.sh", body.len()));
        let mut f = std::fs::File::create(&p).unwrap();
        writeln!(f, "#!/bin/sh\n{body}").unwrap();
        drop(f);
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        p.to_string_lossy().into_owned()
    }

    fn wait_idle(n: &mut Notifier, now: Instant) {
        for _ in 0..500 {
            n.poll(now);
            if n.running() == 0 && n.queued() == 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("scripts did not finish");
    }

    #[test]
    fn runs_with_group_and_state_and_counts_failures() {
        let dir = std::env::temp_dir().join(format!("hagw-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let ok = script(&dir, &format!("echo \"$1 $2\" >> {}", out.display()));
        let bad = script(&dir, "exit 3");
        let mut n = Notifier::new();
        let t = Instant::from_secs(1);
        n.notify(t, &ok, "lan_gw", "master");
        n.notify(t, &bad, "lan_gw", "backup");
        n.notify(t, "/nonexistent/script", "g", "fault");
        wait_idle(&mut n, t);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "lan_gw master\n");
        assert_eq!(n.failed, 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// keepalived's argument order, and hotplug-call with its environment.
    #[test]
    fn keepalived_order_and_hotplug_environment() {
        let dir = std::env::temp_dir().join(format!("hagw-notify3-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let ka = script(&dir, &format!("echo \"ka $*\" >> {}", out.display()));
        let hp = script(
            &dir,
            &format!(
                "echo \"hp $1 $ACTION $GROUP $STATE $VRID $INTERFACE $PRIORITY $TYPE $NAME\" >> {}",
                out.display()
            ),
        );
        let mut n = Notifier::new();
        n.hotplug = Some(hp);
        let t = Instant::from_secs(1);
        let tr = Transition {
            group: "lan_gw",
            state: "master",
            vrid: 51,
            interface: "lan",
            priority: 200,
        };
        n.notify_keepalived(t, &ka, &tr);
        wait_idle(&mut n, t);
        n.hotplug(t, &tr);
        wait_idle(&mut n, t);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "ka INSTANCE lan_gw MASTER 200\nhp hagw NOTIFY_MASTER lan_gw master 51 lan 200 INSTANCE lan_gw\n"
        );
        assert_eq!(n.failed, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bounded_queue_and_timeout_kill() {
        let dir = std::env::temp_dir().join(format!("hagw-notify2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let slow = script(&dir, "sleep 30");
        let mut n = Notifier::new();
        let t = Instant::from_secs(1);
        for _ in 0..(MAX_RUNNING + MAX_QUEUED + 5) {
            n.notify(t, &slow, "g", "master");
        }
        assert_eq!(n.running(), MAX_RUNNING);
        assert_eq!(n.queued(), MAX_QUEUED);
        assert_eq!(n.dropped, 5);
        assert_eq!(n.next_deadline(), Some(t + SCRIPT_TIMEOUT));
        // Past the deadline every running script is killed, then the queue drains
        // (each started script is killed in turn as time is far past its deadline).
        let late = t + SCRIPT_TIMEOUT + Duration::from_secs(100);
        n.timeout = Duration::ZERO;
        wait_idle(&mut n, late);
        assert!(n.failed >= (MAX_RUNNING + MAX_QUEUED) as u64);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn checks_report_exit_status_and_a_hung_one_is_killed_as_failure() {
        let dir = std::env::temp_dir().join(format!("hagw-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = script(&dir, "test \"$1\" = arg");
        let bad = script(&dir, "exit 1");
        let hung = script(&dir, "exec sleep 30");
        let mut n = Notifier::new();
        let t = Instant::from_secs(1);
        n.check(t, "ok", &format!("{ok} arg"), Duration::from_secs(5));
        n.check(t, "bad", &bad, Duration::from_secs(5));
        n.check(t, "missing", "/nonexistent/check", Duration::from_secs(5));
        n.check(t, "hung", &hung, Duration::from_millis(100));
        // The hung one is past its deadline at t + 1 s: killed.
        wait_idle(&mut n, t + Duration::from_secs(1));
        let mut got = Vec::new();
        while let Some(r) = n.take_result() {
            got.push(r);
        }
        got.sort();
        let want = [
            ("bad", false),
            ("hung", false),
            ("missing", false),
            ("ok", true),
        ];
        let want: Vec<(String, bool)> = want.iter().map(|(a, b)| (a.to_string(), *b)).collect();
        assert_eq!(got, want);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
