//! Rendering of `show` output (text tables in the layouts of SPEC §5, and
//! JSON) from an engine `Snapshot`. Pure functions: no sockets.

use crate::engine::Snapshot;
use crate::time::Instant;

/// Answer one control request (the words after `hagw show`, plus `--json`
/// if given, e.g. "vrrp summary --json") from a snapshot taken at `now`.
/// `Ok(text)` is printed as is; `Err(message)` means a bad request.
pub fn answer(request: &str, snap: &Snapshot, _now: Instant) -> Result<String, String> {
    let _ = snap;
    Err(format!("unknown request: {request}"))
}
