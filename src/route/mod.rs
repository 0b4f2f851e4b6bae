//! IPv4 routing for the dataplane: which port and next hop a destination
//! takes (`table`).
//!
//! Owns route selection. Sans-IO: never touches a socket or a clock, never
//! parses or rewrites the frames it forwards. A port is an index into
//! `Config::interfaces` (`engine::PortId`); only lan/wan interfaces carry
//! routes.

pub mod table;

pub use table::{NextHop, RouteError, RouteKind, RouteStatus, RouteTable};
