//! IPv4 routing for the dataplane: which port and next hop a destination
//! takes (`table`) and which MAC that next hop has (`neigh`, the ARP
//! resolver with its bounded queue of frames waiting for resolution).
//!
//! Owns route selection and neighbour state. Sans-IO: never touches a
//! socket or a clock, never parses or rewrites the frames it forwards. A
//! port is an index into `Config::interfaces` (`engine::PortId`); only
//! lan/wan interfaces carry routes.
//!
//! Per packet the engine does: `table.lookup(dst)` → `NextHop { port, via }`
//! → `neigh.resolve(now, port, via)` → send to the MAC, or `enqueue` the
//! frame while `Pending`, or drop it on `Failed`; then it sends
//! `neigh.poll_request()`s and `neigh.drain_resolved(..)` frames.

pub mod neigh;
pub mod table;

pub use neigh::{
    ArpRequest, Enqueue, NeighCounters, NeighParams, NeighState, NeighStatus, Neighbours, Resolve,
};
pub use table::{NextHop, RouteError, RouteKind, RouteStatus, RouteTable};
