//! UCI syntax: `config TYPE ['name']`, `option key 'value'`, `list key 'value'`,
//! `#` comments, single/double/bare quoting. Produces sections with lines.

use super::ConfigError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UciOption {
    pub key: String,
    pub value: String,
    /// `list` rather than `option`.
    pub is_list: bool,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UciSection {
    pub kind: String,
    pub name: Option<String>,
    pub line: usize,
    pub options: Vec<UciOption>,
}

pub fn parse(file: &str, _text: &str) -> Result<Vec<UciSection>, ConfigError> {
    Err(ConfigError {
        file: file.to_string(),
        line: 0,
        message: "UCI parser not implemented yet".into(),
    })
}
