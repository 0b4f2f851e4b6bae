//! BFD interop (issue 15): keepalived 2.2.7's `bfd_instance` (an
//! independent RFC 5880 implementation) against hagw's `bfd::Session`,
//! over a real UDP socket between two namespaces on one bridge segment.
//!
//! The driver here is test-only (the daemon's socket is written
//! elsewhere): a thread that enters our namespace, receives on UDP 3784
//! with IP_RECVTTL (the TTL goes to `handle_packet`), sends from a port in
//! 49152-65535 with IP_TTL 255, and runs the session from `poll_timeout`.
//! Checked: the session comes Up and stays Up (no flap) for a few seconds,
//! keepalived logs Up too; when we stop sending, keepalived expires us
//! (its log says after how long) and we follow it Down; after we resume,
//! both come back Up; SIGKILL of keepalived takes our session Down within
//! the detection time (measured and printed). Needs root and keepalived
//! built with BFD (Debian's is).

mod netns;
use netns::*;

use hagw::bfd::{Diag, Event, Session, SessionConfig, Snapshot, State};
use hagw::daemon::clock;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const OURS: Ipv4Addr = Ipv4Addr::new(10, 98, 0, 1);
const THEIRS: Ipv4Addr = Ipv4Addr::new(10, 98, 0, 2);
fn keepalived_has_bfd() -> bool {
    let out = Command::new("keepalived")
        .arg("--version")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output();
    match out {
        Ok(o) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            text.contains(" BFD ")
        }
        Err(_) => false,
    }
}

/// What the driver thread shares with the test.
#[derive(Default)]
struct Shared {
    events: Vec<Event>,
    snapshot: Option<Snapshot>,
    /// Datagrams from an address other than the peer (ignored).
    strangers: u64,
}

struct Driver {
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    /// While set the session runs but nothing is sent (we look dead).
    mute: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Driver {
    fn snapshot(&self) -> Snapshot {
        self.shared.lock().unwrap().snapshot.clone().unwrap()
    }
    fn events(&self) -> Vec<Event> {
        self.shared.lock().unwrap().events.clone()
    }
    fn state(&self) -> Option<State> {
        self.shared
            .lock()
            .unwrap()
            .snapshot
            .as_ref()
            .map(|s| s.state)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn check(rc: libc::c_int, what: &str) {
    assert!(rc >= 0, "{what}: {}", std::io::Error::last_os_error());
}

fn setsockopt_int(fd: libc::c_int, level: libc::c_int, opt: libc::c_int, v: libc::c_int) {
    // SAFETY: an int option on a socket we own.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            &v as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    check(rc, "setsockopt");
}

/// Run a session in namespace `ns` towards `peer`, until stopped or `limit`.
fn start_driver(ns: &str, cfg: SessionConfig, limit: Duration) -> Driver {
    let shared = Arc::new(Mutex::new(Shared::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mute = Arc::new(AtomicBool::new(false));
    let (sh, st, mu) = (shared.clone(), stop.clone(), mute.clone());
    let path = format!("/run/netns/{ns}");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let nsf = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // SAFETY: setns on a namespace fd we opened; affects this thread only.
        check(
            unsafe { libc::setns(nsf.as_raw_fd(), libc::CLONE_NEWNET) },
            "setns",
        );
        // Receive on 3784 with the TTL of each datagram.
        let rx = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, hagw::bfd::CONTROL_PORT))
            .expect("bind 3784");
        setsockopt_int(rx.as_raw_fd(), libc::IPPROTO_IP, libc::IP_RECVTTL, 1);
        // Send from an ephemeral-range port (RFC 5881 §4) with TTL 255.
        let sport = hagw::bfd::SOURCE_PORT_MIN + (std::process::id() % 16000) as u16;
        let tx = std::net::UdpSocket::bind((OURS, sport)).expect("bind source port");
        setsockopt_int(
            tx.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_TTL,
            i32::from(hagw::bfd::TTL),
        );
        let mut s = Session::new(cfg, 0x4147_0001, u64::from(std::process::id()));
        ready_tx.send(()).unwrap();
        let end = clock::now() + limit;
        let mut buf = [0u8; 128];
        let mut pfd = libc::pollfd {
            fd: rx.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        while !st.load(Ordering::SeqCst) && clock::now() < end {
            let now = clock::now();
            s.handle_timeout(now);
            while let Some(n) = s.poll_transmit(now, &mut buf) {
                if !mu.load(Ordering::SeqCst) {
                    let _ = tx.send_to(&buf[..n], (THEIRS, hagw::bfd::CONTROL_PORT));
                }
            }
            {
                let mut g = sh.lock().unwrap();
                while let Some(e) = s.poll_event() {
                    g.events.push(e);
                }
                g.snapshot = Some(s.snapshot());
            }
            let wait = match s.poll_timeout() {
                Some(t) => clock::poll_ms(now, t, 50),
                None => 50,
            };
            // SAFETY: one pollfd we own.
            unsafe { libc::poll(&mut pfd, 1, wait) };
            // Every waiting datagram before the timers at the top of the
            // loop, so a late wake-up does not expire a live session.
            while let Ok(Some((n, src, ttl))) =
                hagw::daemon::bfdsock::recv_with_ttl(rx.as_raw_fd(), &mut buf)
            {
                if src != THEIRS {
                    sh.lock().unwrap().strangers += 1;
                    continue;
                }
                let _ = s.handle_packet(clock::now(), &buf[..n], ttl);
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("driver started");
    Driver {
        shared,
        stop,
        mute,
        thread: Some(thread),
    }
}

fn keepalived_conf((tx, rx, mult): (u64, u64, u8)) -> String {
    format!(
        "global_defs {{\n  router_id bfdka\n}}\n\
         bfd_instance hagw {{\n  neighbor_ip {OURS}\n  source_ip {THEIRS}\n\
         \x20 min_rx {rx}\n  min_tx {tx}\n  multiplier {mult}\n}}\n"
    )
}

/// Lines of keepalived's log about our instance (2.2.7 writes "(hagw) ...").
fn ka_lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("(hagw)"))
        .map(str::to_string)
        .collect()
}

fn ka_count(log: &Path, what: &str) -> usize {
    ka_lines(log)
        .iter()
        .filter(|l| l.to_ascii_lowercase().contains(&what.to_ascii_lowercase()))
        .count()
}

fn dur_ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[test]
fn keepalived_bfd_instance_and_hagw_session() {
    if skip() {
        return;
    }
    if !keepalived_has_bfd() {
        println!("skipped: needs keepalived built with BFD");
        return;
    }
    let mut lab = Lab::new("bfd_ka");
    lab.segment("s");
    let h = lab.ns("h");
    let k = lab.ns("k");
    lab.plug("s", &h, "sync0");
    lab.plug("s", &k, "sync0");
    lab.addr(&h, "sync0", &format!("{OURS}/24"));
    lab.addr(&k, "sync0", &format!("{THEIRS}/24"));

    let conf = lab.dir.join("ka-bfd.conf");
    let (tx, rx, mult) = bfd_timers();
    let (tx, rx) = (u64::from(tx), u64::from(rx));
    std::fs::write(&conf, keepalived_conf((tx, rx, mult))).unwrap();
    let (pid, bpid) = (lab.dir.join("ka.pid"), lab.dir.join("ka.bfd.pid"));
    let (c, p, b) = (
        conf.to_string_lossy().into_owned(),
        pid.to_string_lossy().into_owned(),
        bpid.to_string_lossy().into_owned(),
    );
    let main = lab.spawn(
        &k,
        "ka",
        &["keepalived", "-n", "-l", "-D", "-f", &c, "-p", &p, "-b", &b],
    );
    let ka_log = lab.procs[main].log.clone();
    let bfd_child = wait_for(Duration::from_secs(10), || read_pid(&bpid).is_some())
        .and_then(|_| read_pid(&bpid));
    let Some(bfd_child) = bfd_child else {
        lab.dump_logs();
        panic!("keepalived started no BFD process");
    };
    lab.adopt_pid(bfd_child, ka_log.clone());

    let cfg = SessionConfig {
        desired_min_tx: Duration::from_millis(tx),
        required_min_rx: Duration::from_millis(rx),
        detect_mult: mult,
    };
    let drv = start_driver(&h, cfg, Duration::from_secs(90));

    // 1. Up on both sides.
    let up_after = wait_for(Duration::from_secs(10), || drv.state() == Some(State::Up));
    if up_after.is_none() {
        lab.dump_logs();
        panic!("our session not Up: {:#?}", drv.snapshot());
    }
    println!("hagw session Up after {:?}", up_after.unwrap());
    if wait_for(Duration::from_secs(5), || {
        ka_count(&ka_log, "Entering UP state") >= 1
    })
    .is_none()
    {
        lab.dump_logs();
        panic!("keepalived never logged Up: {:#?}", ka_lines(&ka_log));
    }
    // The poll for the fast timers has been answered.
    let settled = wait_for(Duration::from_secs(3), || {
        let s = drv.snapshot();
        !s.poll_active && s.detect_time.is_some()
    });
    assert!(settled.is_some(), "{:#?}", drv.snapshot());

    // 2. Stays Up: no flap for a few seconds.
    std::thread::sleep(Duration::from_secs(4));
    let snap = drv.snapshot();
    println!(
        "after 4 s Up: state changes {}, up {}, down {}, tx {}, rx {}, drops {:?}, tx interval {:?}, detect time {:?}",
        snap.counters.state_changes,
        snap.counters.up,
        snap.counters.down,
        snap.counters.tx,
        snap.counters.rx,
        snap.counters
            .drops_named()
            .filter(|(_, n)| *n > 0)
            .collect::<Vec<_>>(),
        snap.tx_interval,
        snap.detect_time
    );
    let detect = Duration::from_millis(u64::from(mult) * rx.max(tx));
    assert_eq!(snap.state, State::Up);
    assert_eq!(snap.counters.up, 1, "{:?}", drv.events());
    assert_eq!(snap.counters.down, 0, "{:?}", drv.events());
    assert_eq!(snap.counters.drops_total(), 0);
    assert_eq!(snap.tx_interval, Some(Duration::from_millis(tx.max(rx))));
    assert_eq!(snap.detect_time, Some(detect));
    assert_eq!(snap.remote_detect_mult, mult);
    assert_ne!(snap.remote_discriminator, 0);
    assert!(snap.counters.rx > 100, "{}", snap.counters.rx);
    assert_eq!(
        ka_count(&ka_log, "Entering DOWN"),
        0,
        "{:#?}",
        ka_lines(&ka_log)
    );

    // 3. We go quiet: keepalived expires us, we follow it Down (its Down
    //    reaches us), then we speak again and both come back Up.
    drv.mute.store(true, Ordering::SeqCst);
    let expired = wait_for(Duration::from_secs(5), || {
        ka_count(&ka_log, "Expired after") >= 1
    });
    if expired.is_none() {
        lab.dump_logs();
        panic!("keepalived did not expire our session");
    }
    let line = ka_lines(&ka_log)
        .into_iter()
        .find(|l| l.contains("Expired after"))
        .unwrap();
    println!("keepalived: {line}");
    let ka_ms: u64 = line
        .split("Expired after")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no time in {line:?}"));
    assert!(
        ka_ms as f64 <= dur_ms(detect) * 3.0,
        "keepalived took {ka_ms} ms"
    );
    assert!(
        wait_for(Duration::from_secs(3), || drv.state() != Some(State::Up)).is_some(),
        "we did not follow keepalived down"
    );
    let ev = drv
        .events()
        .into_iter()
        .find(|e| e.from == State::Up)
        .unwrap();
    assert_eq!(ev.diag, Diag::NeighborDown);
    drv.mute.store(false, Ordering::SeqCst);
    let back = wait_for(Duration::from_secs(10), || {
        drv.state() == Some(State::Up) && ka_count(&ka_log, "Entering UP state") >= 2
    });
    if back.is_none() {
        lab.dump_logs();
        panic!("not back Up: {:#?}", drv.snapshot());
    }
    println!("both back Up {:?} after we resumed", back.unwrap());
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(drv.snapshot().counters.up, 2);

    // 4. keepalived dies: our session goes Down within the detection time.
    let before = drv.events().len();
    let killed_at = clock::now();
    kill(bfd_child, libc::SIGKILL);
    kill(lab.procs[main].pid, libc::SIGKILL);
    let down = wait_for(Duration::from_secs(5), || {
        drv.events()[before..].iter().any(|e| e.to == State::Down)
    });
    if down.is_none() {
        lab.dump_logs();
        panic!("our session stayed {:?}", drv.state());
    }
    let ev = drv.events()[before..]
        .iter()
        .find(|e| e.to == State::Down)
        .copied()
        .unwrap();
    let took = ev.at - killed_at;
    println!(
        "keepalived SIGKILL -> hagw session Down in {:.1} ms (detection time {:.0} ms), diag {}",
        dur_ms(took),
        dur_ms(detect),
        ev.diag.as_str()
    );
    assert_eq!(ev.from, State::Up);
    assert_eq!(ev.diag, Diag::DetectionTimeExpired);
    assert!(
        took <= detect * 3,
        "Down {took:?} after the kill; detection time {detect:?}"
    );
    let strangers = drv.shared.lock().unwrap().strangers;
    assert_eq!(strangers, 0);
    drop(drv);
}
