//! Typed views over packet bytes, smoltcp-style: `new_checked` validates
//! lengths once so no accessor can panic; `Repr` structs are the parsed
//! meaning with `parse` and `emit`. Never allocates, never trusts a length
//! field before checking it against the buffer.

pub mod vrrp;
