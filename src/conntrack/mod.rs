//! Connection tracking: the fixed-size session table of the dataplane.
//!
//! Owns: flow identity (`tuple`). The session table, protocol state
//! machines and expiry are being built (issue 10).

pub mod tuple;

pub use tuple::Tuple;
