//! Rendering of `show` output (text tables in the layouts of SPEC §5, and
//! JSON) from an engine `Snapshot`. Pure functions: no sockets.
