//! The control-socket protocol used by `hagw show`: the client writes one
//! request line and reads the response until EOF; the daemon's side of
//! the socket lives in `daemon`, and calls `respond` here.

use super::ShowArgs;
use crate::engine::Snapshot;
use crate::time::Instant;

/// The daemon's answer to one request line, as bytes to write back.
pub fn respond(request_line: &str, snap: &Snapshot, now: Instant) -> Vec<u8> {
    match super::show::answer(request_line.trim(), snap, now) {
        Ok(text) => format!("ok\n{text}").into_bytes(),
        Err(msg) => format!("error\n{msg}\n").into_bytes(),
    }
}

/// Run `hagw show …`: connect, ask, print; returns the exit code.
pub fn show_command(_args: &ShowArgs) -> i32 {
    eprintln!("hagw: show is not implemented yet");
    1
}
