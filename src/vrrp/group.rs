//! One VRRP group (virtual router) as a pure state machine: RFC 3768 (v2)
//! and RFC 5798 (v3) timers, election, preemption, priority 0, FAULT.
//!
//! Owns: the state, the Master_Down / Adver timers, the preempt-delay
//! deadline, the learned Master_Adver_Interval (v3) and the counters.
//! Never: parses bytes, builds frames, reads a clock, or decides for a sync
//! group. It never goes MASTER by itself: it *asks* (`Output::want_master`)
//! and the engine calls `become_master` (alone, or for the whole sync group)
//! or `stay_backup` when the sync group is blocked.

use super::{AhSeq, GroupAuth, GroupCounters, VrrpState};
use crate::config::{Interface, VrrpAuth, VrrpGroup};
use crate::time::{Duration, Instant};
use crate::wire::vrrp::{AUTH_AH, AUTH_NONE, AUTH_PLAINTEXT, MAX_ADDRS, VrrpRepr};
use std::net::Ipv4Addr;

/// Highest priority; only the address owner uses it.
pub const PRIORITY_OWNER: u8 = 255;
/// Priority in the advert of a master that stops.
pub const PRIORITY_STOP: u8 = 0;

/// The protocol parameters of one group, derived from the config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupParams {
    /// The group's config name (for logs).
    pub name: String,
    pub vrid: u8,
    pub version: u8,
    /// Priority as sent and used in the election (255 owner, 254 for a
    /// non-owner configured 255).
    pub priority: u8,
    pub configured_priority: u8,
    pub address_owner: bool,
    /// Our Advertisement_Interval in centiseconds.
    pub advert_interval_cs: u16,
    pub preempt: bool,
    pub preempt_delay: Duration,
    /// The interface's primary address: advert source, election tie-break.
    pub primary: Ipv4Addr,
    pub vips: heapless::Vec<Ipv4Addr, MAX_ADDRS>,
    /// v2 authentication.
    pub auth: GroupAuth,
}

impl GroupParams {
    /// Derive from a validated group and its interface. Logs the 255 → 254
    /// warning for a non-owner configured with priority 255.
    pub fn from_config(g: &VrrpGroup, iface: &Interface) -> GroupParams {
        let mut vips = heapless::Vec::new();
        for v in &g.virtual_addresses {
            // The config validator limits the count; extra ones are ignored.
            let _ = vips.push(v.addr);
        }
        let address_owner = vips.contains(&iface.address.addr);
        let priority = if address_owner {
            PRIORITY_OWNER
        } else if g.priority == PRIORITY_OWNER {
            log::warn!(
                "vrrp {}: priority 255 is reserved for the address owner; {} is not the owner of any \
                 virtual address, advertising priority 254",
                g.name,
                iface.address.addr
            );
            PRIORITY_OWNER - 1
        } else {
            g.priority.max(1)
        };
        let auth = match &g.auth {
            VrrpAuth::None => GroupAuth::None,
            VrrpAuth::Plaintext(p) => {
                GroupAuth::Plaintext(VrrpRepr::plaintext_auth_data(p.as_bytes()))
            }
            VrrpAuth::Ah(p) => GroupAuth::Ah(crate::wire::ah::key_from_password(p.as_bytes())),
        };
        GroupParams {
            name: g.name.clone(),
            vrid: g.vrid,
            version: g.version,
            priority,
            configured_priority: g.priority,
            address_owner,
            advert_interval_cs: g.advert_interval_cs.max(1),
            preempt: g.preempt,
            preempt_delay: Duration::from_secs(u64::from(g.preempt_delay_secs)),
            primary: iface.address.addr,
            vips,
            auth,
        }
    }

    /// The interval field to put in our adverts (v2 seconds, v3 centiseconds).
    pub fn wire_interval(&self) -> u16 {
        if self.version == 2 {
            (self.advert_interval_cs / 100).max(1)
        } else {
            self.advert_interval_cs.min(0x0fff)
        }
    }
}

/// What a call asks the engine to do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Send an advert with this priority now.
    pub advert: Option<u8>,
    /// The state changed: (from, to, reason).
    pub transition: Option<(VrrpState, VrrpState, &'static str)>,
    /// The group wants to become MASTER, for this reason; the engine decides.
    pub want_master: Option<&'static str>,
    /// Another master was seen and lost to us: re-send gratuitous ARP.
    pub reassert: bool,
}

/// Why an advert for this group was dropped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Drop {
    Ttl,
    Version,
    AddressList,
    Auth,
    Interval,
    /// A priority-255 advert from another router while we are the owner.
    OwnerConflict,
}

fn cs(cs: u16) -> Duration {
    Duration::from_millis(u64::from(cs) * 10)
}

/// One virtual router.
#[derive(Clone, Debug)]
pub struct Group {
    pub params: GroupParams,
    state: VrrpState,
    /// MASTER: next advert. BACKUP: Master_Down_Timer.
    timer: Option<Instant>,
    /// BACKUP with preempt_delay: when to preempt the lower master.
    preempt_at: Option<Instant>,
    /// v3: learned from the master (ours while master). v2: ours.
    master_adver_interval_cs: u16,
    master_router: Option<Ipv4Addr>,
    master_priority: Option<u8>,
    last_change: Option<Instant>,
    /// Set by the engine while a (re)started router's conntrack resync
    /// runs: do not preempt a lower-priority master yet (SPEC §4a). The
    /// address owner is not held (it always preempts).
    preempt_hold: bool,
    pub counters: GroupCounters,
    /// `auth_type ah`: the sequence counter (checked by the engine, which
    /// verifies the AH before calling `handle_advert`).
    pub ah_seq: AhSeq,
}

impl Group {
    pub fn new(params: GroupParams) -> Group {
        let mai = params.advert_interval_cs;
        Group {
            params,
            state: VrrpState::Init,
            timer: None,
            preempt_at: None,
            master_adver_interval_cs: mai,
            master_router: None,
            master_priority: None,
            last_change: None,
            preempt_hold: false,
            counters: GroupCounters::default(),
            ah_seq: AhSeq::default(),
        }
    }

    /// Hold (or release) preemption of a lower-priority master; see the
    /// field. Released, the next advert of the lower master is ignored and
    /// Master_Down_Timer takes over as usual.
    pub fn set_preempt_hold(&mut self, hold: bool) {
        self.preempt_hold = hold;
    }

    pub fn preempt_held(&self) -> bool {
        self.preempt_hold && !self.params.address_owner
    }

    pub fn state(&self) -> VrrpState {
        self.state
    }
    pub fn master_router(&self) -> Option<Ipv4Addr> {
        self.master_router
    }
    pub fn master_priority(&self) -> Option<u8> {
        self.master_priority
    }
    pub fn master_adver_interval_cs(&self) -> u16 {
        self.master_adver_interval_cs
    }
    pub fn last_change(&self) -> Option<Instant> {
        self.last_change
    }

    /// Skew_Time: v2 (256 − Priority)/256 s; v3 ((256 − Priority) × Master_Adver_Interval)/256.
    pub fn skew_time(&self) -> Duration {
        let p = 256 - u64::from(self.params.priority);
        if self.params.version == 2 {
            Duration::from_micros(p * 1_000_000 / 256)
        } else {
            Duration::from_micros(p * u64::from(self.master_adver_interval_cs) * 10_000 / 256)
        }
    }

    /// Master_Down_Interval: 3 × (Master_)Adver_Interval + Skew_Time.
    pub fn master_down_interval(&self) -> Duration {
        cs(self.master_adver_interval_cs) * 3 + self.skew_time()
    }

    /// The next instant `handle_timeout` must run, if any.
    pub fn deadline(&self) -> Option<Instant> {
        match (self.timer, self.preempt_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn set_state(&mut self, now: Instant, to: VrrpState, reason: &'static str, out: &mut Output) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        self.last_change = Some(now);
        self.preempt_at = None;
        if to == VrrpState::Master {
            self.counters.became_master += 1;
            self.master_router = Some(self.params.primary);
            self.master_priority = Some(self.params.priority);
        }
        log::info!(
            "vrrp {} (vrid {}, {}): {} -> {}: {}",
            self.params.name,
            self.params.vrid,
            self.params.primary,
            from.as_str(),
            to.as_str(),
            reason
        );
        out.transition = Some((from, to, reason));
    }

    fn arm_master_down(&mut self, now: Instant) {
        self.timer = Some(now + self.master_down_interval());
    }

    fn enter_backup(&mut self, now: Instant, reason: &'static str, out: &mut Output) {
        self.set_state(now, VrrpState::Backup, reason, out);
        self.arm_master_down(now);
    }

    /// INIT (or FAULT cleared) → BACKUP, or ask for MASTER when address owner.
    /// `faulted`: the own link or a tracked interface is down.
    /// No-op unless in INIT (a sync group may already have moved it).
    pub fn start(&mut self, now: Instant, faulted: bool) -> Output {
        let mut out = Output::default();
        if self.state != VrrpState::Init {
            return out;
        }
        if faulted {
            self.set_state(now, VrrpState::Fault, "interface down at start", &mut out);
            self.timer = None;
            return out;
        }
        if self.params.version == 3 {
            self.master_adver_interval_cs = self.params.advert_interval_cs;
        }
        if self.params.priority == PRIORITY_OWNER {
            // Stay in INIT until the engine lets us become master.
            out.want_master = Some("address owner");
            return out;
        }
        self.enter_backup(now, "startup", &mut out);
        out
    }

    /// The engine grants mastership (alone or for the whole sync group).
    pub fn become_master(&mut self, now: Instant, reason: &'static str) -> Output {
        let mut out = Output::default();
        if self.state == VrrpState::Master || self.state == VrrpState::Fault {
            return out;
        }
        self.master_adver_interval_cs = self.params.advert_interval_cs;
        self.set_state(now, VrrpState::Master, reason, &mut out);
        self.counters.adverts_tx += 1;
        out.advert = Some(self.params.priority);
        self.timer = Some(now + cs(self.params.advert_interval_cs));
        out
    }

    /// The engine refused mastership (a sync group member is in FAULT): stay
    /// BACKUP and try again after another Master_Down_Interval.
    pub fn stay_backup(&mut self, now: Instant) -> Output {
        let mut out = Output::default();
        self.preempt_at = None;
        if self.state == VrrpState::Init {
            self.enter_backup(now, "sync group member in fault", &mut out);
        } else if self.state == VrrpState::Backup {
            self.arm_master_down(now);
        }
        out
    }

    /// Forced to BACKUP because a sync group member left MASTER. A master
    /// that gives up this way sends priority 0 (when `link_up`) so the peer
    /// takes over after Skew_Time.
    pub fn force_backup(&mut self, now: Instant, reason: &'static str, link_up: bool) -> Output {
        let mut out = Output::default();
        if self.state == VrrpState::Fault {
            return out;
        }
        if self.state == VrrpState::Master && link_up {
            self.counters.priority_zero_tx += 1;
            self.counters.adverts_tx += 1;
            out.advert = Some(PRIORITY_STOP);
        }
        self.master_router = None;
        self.master_priority = None;
        self.enter_backup(now, reason, &mut out);
        out
    }

    /// Own link or a tracked interface changed. `faulted` is the new overall
    /// condition; `link_up` whether our own link still carries frames.
    pub fn set_fault(
        &mut self,
        now: Instant,
        faulted: bool,
        link_up: bool,
        reason: &'static str,
    ) -> Output {
        let mut out = Output::default();
        if faulted {
            if self.state == VrrpState::Fault {
                return out;
            }
            if self.state == VrrpState::Master && link_up {
                self.counters.priority_zero_tx += 1;
                self.counters.adverts_tx += 1;
                out.advert = Some(PRIORITY_STOP);
            }
            self.set_state(now, VrrpState::Fault, reason, &mut out);
            self.timer = None;
            self.master_router = None;
            self.master_priority = None;
            out
        } else if self.state == VrrpState::Fault {
            self.state = VrrpState::Init;
            // Through INIT without reporting it: an owner waits there for
            // the engine to grant MASTER, anyone else goes BACKUP.
            let mut o = self.start(now, false);
            if let Some((_, to, _)) = o.transition {
                o.transition = Some((VrrpState::Fault, to, reason));
            }
            o
        } else {
            out
        }
    }

    /// Orderly stop: a master sends priority 0. The group goes to INIT.
    pub fn shutdown(&mut self, now: Instant) -> Output {
        let mut out = Output::default();
        if self.state == VrrpState::Master {
            self.counters.priority_zero_tx += 1;
            self.counters.adverts_tx += 1;
            out.advert = Some(PRIORITY_STOP);
        }
        self.set_state(now, VrrpState::Init, "shutdown", &mut out);
        self.timer = None;
        self.master_router = None;
        self.master_priority = None;
        out
    }

    /// Timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Output {
        let mut out = Output::default();
        match self.state {
            VrrpState::Master => {
                if self.timer.is_some_and(|t| t <= now) {
                    self.counters.adverts_tx += 1;
                    out.advert = Some(self.params.priority);
                    self.timer = Some(now + cs(self.params.advert_interval_cs));
                }
            }
            VrrpState::Backup => {
                if self.preempt_at.is_some_and(|t| t <= now) {
                    self.preempt_at = None;
                    self.timer = None;
                    out.want_master =
                        Some("preempt delay elapsed, preempting lower-priority master");
                } else if self.timer.is_some_and(|t| t <= now) {
                    self.timer = None;
                    out.want_master = Some("master down interval expired");
                }
            }
            VrrpState::Init | VrrpState::Fault => {}
        }
        out
    }

    /// A parsed advert for this VRID arrived from `src` with IP TTL `ttl`.
    /// Bad adverts are counted and return `Err` without touching state.
    pub fn handle_advert(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        ttl: u8,
        adv: &VrrpRepr,
    ) -> Result<Output, Drop> {
        self.counters.adverts_rx += 1;
        if ttl != 255 {
            self.counters.rx_ttl_error += 1;
            return Err(Drop::Ttl);
        }
        if adv.version != self.params.version {
            self.counters.rx_version_error += 1;
            return Err(Drop::Version);
        }
        // Authentication (v2): type and password must match ours (the AH
        // itself was verified by the engine).
        if self.params.version == 2 {
            let ok = match self.params.auth {
                GroupAuth::None => adv.auth_type == AUTH_NONE,
                GroupAuth::Plaintext(key) => {
                    adv.auth_type == AUTH_PLAINTEXT && adv.auth_data == key
                }
                GroupAuth::Ah(_) => adv.auth_type == AUTH_AH,
            };
            if !ok {
                self.counters.rx_auth_error += 1;
                return Err(Drop::Auth);
            }
            if u32::from(adv.advert_interval) * 100 != u32::from(self.params.advert_interval_cs) {
                self.counters.rx_interval_mismatch += 1;
                return Err(Drop::Interval);
            }
        } else if adv.advert_interval == 0 {
            // RFC 9568 erratum to RFC 5798 §7.1: a Max Adver Int of 0 is
            // invalid; discard instead of clamping it.
            self.counters.rx_interval_mismatch += 1;
            return Err(Drop::Interval);
        }
        // Two owners of one address (RFC 5798 §7.1: the owner discards an
        // advert of priority 255; RFC 9568 asks to log it): a configuration
        // error on the LAN. Keep the address, count and log it.
        if self.params.address_owner && adv.priority == PRIORITY_OWNER {
            self.counters.owner_conflict += 1;
            if self.counters.owner_conflict == 1 || self.counters.owner_conflict % 100 == 0 {
                log::warn!(
                    "vrrp {}: {} also claims to own the virtual address (priority 255); \
                     configuration error on the segment, keeping the address ({} such adverts)",
                    self.params.name,
                    src,
                    self.counters.owner_conflict
                );
            }
            return Err(Drop::OwnerConflict);
        }
        // Address list: RFC 3768 drops a mismatch unless it comes from the
        // owner; RFC 5798 only says log. We count it always, drop it for v2
        // unless priority 255, accept it for v3 (keepalived interop).
        let same = adv.addresses.len() == self.params.vips.len()
            && self.params.vips.iter().all(|v| adv.addresses.contains(v));
        if !same {
            self.counters.rx_address_list_error += 1;
            if self.params.version == 2 && adv.priority != PRIORITY_OWNER {
                return Err(Drop::AddressList);
            }
        }
        if adv.priority == PRIORITY_STOP {
            self.counters.priority_zero_rx += 1;
        }
        let mut out = Output::default();
        match self.state {
            VrrpState::Init | VrrpState::Fault => {}
            VrrpState::Backup => {
                if adv.priority == PRIORITY_STOP {
                    // Take over after Skew_Time.
                    self.timer = Some(now + self.skew_time());
                    self.preempt_at = None;
                    self.master_router = None;
                    self.master_priority = None;
                } else if !self.preempts() || !self.beats(src, adv.priority) {
                    self.accept_master(now, src, adv);
                    self.preempt_at = None;
                } else {
                    // A master we beat (lower priority, or equal priority
                    // from a lower address) and we may preempt.
                    self.master_router = Some(src);
                    self.master_priority = Some(adv.priority);
                    if self.params.preempt_delay > Duration::ZERO && !self.params.address_owner {
                        // Keep it as master until the delay has passed.
                        self.accept_master(now, src, adv);
                        if self.preempt_at.is_none() {
                            self.preempt_at = Some(now + self.params.preempt_delay);
                        }
                    }
                    // Without delay: ignore it (RFC), Master_Down fires.
                }
            }
            VrrpState::Master => {
                if adv.priority == PRIORITY_STOP {
                    self.counters.adverts_tx += 1;
                    out.advert = Some(self.params.priority);
                    self.timer = Some(now + cs(self.params.advert_interval_cs));
                } else if !self.beats(src, adv.priority) && src != self.params.primary {
                    self.accept_master(now, src, adv);
                    let reason = if adv.priority > self.params.priority {
                        "higher-priority advert received"
                    } else {
                        "equal-priority advert from a higher address received"
                    };
                    self.set_state(now, VrrpState::Backup, reason, &mut out);
                    self.arm_master_down(now);
                } else {
                    // Another master that loses to us (split brain): assert
                    // ourselves at once, and re-announce the VIPs.
                    self.counters.split_brain += 1;
                    log::warn!(
                        "vrrp {}: split brain: {} is also master (priority {}); re-asserting",
                        self.params.name,
                        src,
                        adv.priority
                    );
                    self.counters.adverts_tx += 1;
                    out.advert = Some(self.params.priority);
                    out.reassert = true;
                }
            }
        }
        Ok(out)
    }

    /// Whether this group takes over from a master it beats: `preempt`, and
    /// always for the address owner (RFC 5798 §6.1: the owner preempts,
    /// without any preempt delay).
    fn preempts(&self) -> bool {
        (self.params.preempt && !self.preempt_hold) || self.params.address_owner
    }

    /// Whether we win the election against an advert of `priority` from
    /// `src`: higher priority, ties broken by the higher primary address.
    fn beats(&self, src: Ipv4Addr, priority: u8) -> bool {
        priority < self.params.priority
            || (priority == self.params.priority && u32::from(src) < u32::from(self.params.primary))
    }

    fn accept_master(&mut self, now: Instant, src: Ipv4Addr, adv: &VrrpRepr) {
        if self.params.version == 3 {
            self.master_adver_interval_cs = adv.advert_interval.clamp(1, 0x0fff);
        }
        self.master_router = Some(src);
        self.master_priority = Some(adv.priority);
        self.arm_master_down(now);
    }
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
