//! One description for a tabular view's text table and its JSON records:
//! each row is a slice of `Cell`s, and a `Layout` says which cells make
//! the text columns (under which headers) and which make the JSON fields
//! (under which keys, in which order). The formatting code then exists
//! once instead of a hand-written text and JSON pair per view.
//!
//! Owns: `Cell`, `Layout` and the two renderings. Never: decides what a
//! view shows (the views build the cells).

use super::super::json::Json;
use super::super::show::{format_duration, table};
use crate::time::Duration;

/// One value of a row, written as text in a table cell and as a JSON
/// value in a record.
pub enum Cell<'a> {
    /// A string: the same in text and JSON.
    Str(&'a str),
    /// A string made for the view: the same in text and JSON.
    Own(String),
    /// A number: decimal text, a JSON number.
    Num(u64),
    /// An optional string: empty text, JSON `null` when absent.
    Opt(Option<&'a str>),
    /// An optional value: `-` in text, JSON `null` when absent.
    Dash(Option<String>),
    /// A duration: `1m05s` in text, whole seconds in JSON.
    Secs(Duration),
}

impl Cell<'_> {
    fn text(self) -> String {
        match self {
            Cell::Str(s) => s.to_string(),
            Cell::Own(s) => s,
            Cell::Num(n) => n.to_string(),
            Cell::Opt(s) => s.unwrap_or_default().to_string(),
            Cell::Dash(s) => s.unwrap_or_else(|| "-".to_string()),
            Cell::Secs(d) => format_duration(d),
        }
    }

    fn json(self) -> Json {
        match self {
            Cell::Str(s) => Json::from(s),
            Cell::Own(s) | Cell::Dash(Some(s)) => Json::Str(s),
            Cell::Num(n) => Json::UInt(n),
            Cell::Opt(s) => Json::from(s),
            Cell::Dash(None) => Json::Null,
            Cell::Secs(d) => Json::UInt(d.as_secs()),
        }
    }
}

/// The cells of a view: `cell(row, index)`; the layout asks only for the
/// indexes it names.
pub type Cells<'c, 'a> = &'c dyn Fn(usize, u8) -> Cell<'a>;

/// Which cells of a row a view shows, and how.
pub struct Layout {
    /// Text column headers, with the index of each column's cell.
    pub columns: &'static [(&'static str, u8)],
    /// JSON keys in output order, with the index of each field's cell.
    pub fields: &'static [(&'static str, u8)],
}

impl Layout {
    /// The text table of rows `0..rows`.
    pub fn text(&self, rows: usize, cell: Cells) -> String {
        let headers: Vec<&str> = self.columns.iter().map(|(h, _)| *h).collect();
        let cells: Vec<Vec<String>> = (0..rows)
            .map(|r| {
                self.columns
                    .iter()
                    .map(|(_, i)| cell(r, *i).text())
                    .collect()
            })
            .collect();
        table(&headers, &cells)
    }

    /// The JSON records of rows `0..rows`, in order.
    pub fn records(&self, rows: usize, cell: Cells) -> Vec<Json> {
        (0..rows)
            .map(|r| {
                self.fields.iter().fold(Json::object(), |j, (k, i)| {
                    j.field_json(k, cell(r, *i).json())
                })
            })
            .collect()
    }
}
