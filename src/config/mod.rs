//! Configuration: OpenWrt UCI syntax (`uci`) turned into the validated model
//! (`model`) by `validate`. Every error names `FILE:LINE:`.
//!
//! Owns: reading config text. Never: applies it (the engine does), touches
//! sockets or interfaces.

pub mod model;
pub mod uci;
pub mod validate;

pub use model::*;

/// One problem in a config file, printed as `FILE:LINE: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Parse and validate config text; `file` names it in messages.
/// Returns every error found (at least one on failure), in line order.
pub fn parse_str(file: &str, text: &str) -> Result<Config, Vec<ConfigError>> {
    let sections = uci::parse(file, text).map_err(|e| vec![e])?;
    validate::validate(file, &sections)
}

/// Read, parse and validate a config file.
pub fn load(path: &str) -> Result<Config, Vec<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError {
            file: path.to_string(),
            line: 0,
            message: format!("cannot read: {e}"),
        }]
    })?;
    parse_str(path, &text)
}
