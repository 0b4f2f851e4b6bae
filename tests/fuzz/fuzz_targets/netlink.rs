#![no_main]
// The `netlink` harness lives in tests/fuzz/src (shared with the regression test).
libfuzzer_sys::fuzz_target!(|data: &[u8]| hagw_fuzz::netlink::run(data));
