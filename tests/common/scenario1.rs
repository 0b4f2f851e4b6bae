//! What `hagw show` must print for the SPEC §7 scenario 1 pair
//! (board/examples/scenario1-basic-{a,b}.uci: equal priorities, so B at
//! 192.168.42.2 is master and A at 192.168.42.1 backup), shared by the test
//! that renders real engines' snapshots and the one that asks real daemons.

/// `show vrrp summary` of a router whose group is in `state`.
pub fn summary(state: &str) -> String {
    format!(
        "\
Interface  VRRP Group  Addr Type  Address        Interface State  Address Owner  VRRP State
---------  ----------  ---------  -------------  ---------------  -------------  ----------
lan        42          vip        192.168.42.50  up               no             {state}
"
    )
}

/// `show vrrp interface lan` of A (backup, has heard B): the first five
/// lines exactly, then the last transition.
pub fn assert_backup_detail(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "Physical interface: lan, Source Address 192.168.42.1",
            "Interface state: up, Group 42, State: backup",
            "Priority: 1, Advertisement interval: 1, Authentication type: none",
            "Preempt: true, VIP count: 1, VIP: 192.168.42.50",
            "Master router: 192.168.42.2",
        ],
        "{text}"
    );
    assert!(lines[5].starts_with("Last transition: "), "{text}");
}

/// The `hagw_vrrp_state` sample of the group in `show metrics` (1 backup,
/// 2 master).
pub fn state_metric(value: u8) -> String {
    format!("\nhagw_vrrp_state{{group=\"lan_gw\",interface=\"lan\",vrid=\"42\"}} {value}\n")
}
