//! The real driver: AF_PACKET sockets on the dataplane interfaces, the
//! control socket, a signal fd, one poll(2) loop on CLOCK_MONOTONIC.
//! Everything protocol-shaped is the engine's; this module only moves bytes.

/// Run the daemon with the config at `path`; returns the exit code.
pub fn run(path: &str) -> i32 {
    eprintln!("hagw: run is not implemented yet ({path})");
    1
}
