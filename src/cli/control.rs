//! The control-socket protocol (client side and request format) used by
//! `hagw show`: one request line, one response.

use super::ShowArgs;

/// Run `hagw show …`: connect, ask, print; returns the exit code.
pub fn show_command(_args: &ShowArgs) -> i32 {
    eprintln!("hagw: show is not implemented yet");
    1
}
