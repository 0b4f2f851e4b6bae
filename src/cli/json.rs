//! A tiny JSON writer for `--json` output (no serde_json in the binary).
