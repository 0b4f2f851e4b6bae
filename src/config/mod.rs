//! Configuration: OpenWrt UCI syntax (`uci`) turned into the validated model
//! (`model`) by `validate`. Every error names `FILE:LINE:`.
//!
//! Owns: reading config text. Never: applies it (the engine does), touches
//! sockets or interfaces.

mod map;
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
    let bytes = std::fs::read(path).map_err(|e| {
        vec![ConfigError {
            file: path.to_string(),
            line: 0,
            message: format!("cannot read the config file: {e}"),
        }]
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let good = e
            .as_bytes()
            .get(..e.utf8_error().valid_up_to())
            .unwrap_or(&[]);
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        vec![ConfigError {
            file: path.to_string(),
            line,
            message: "not valid UTF-8 text; save the config file as UTF-8".to_string(),
        }]
    })?;
    parse_str(path, &text)
}

/// Parse config text that must be valid (tests of the modules that compile
/// the config); panics with every error otherwise.
#[cfg(test)]
pub(crate) fn must_parse(text: &str) -> Config {
    parse_str("test.uci", text).unwrap_or_else(|e| panic!("{e:#?}"))
}

/// The SPEC §6 example (router A of scenario 5), `tests/fixtures/spec-example.uci`.
#[cfg(test)]
pub(crate) fn spec_example() -> Config {
    must_parse(include_str!("../../tests/fixtures/spec-example.uci"))
}
