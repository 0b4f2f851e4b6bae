//! A tiny JSON writer for `--json` output (no serde_json in the binary).
//!
//! Owns: building a JSON value (`Json`) and writing it as RFC 8259 text
//! (keys in insertion order, 2-space indentation, strings escaped). Never:
//! parses untrusted JSON in the binary (the parser below is test-only).

use core::fmt::Write;

/// A JSON value. Objects keep their keys in insertion order so the output
/// is stable from one run to the next.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// An unsigned integer (counters, ids).
    UInt(u64),
    /// A signed integer.
    Int(i64),
    /// A decimal `value / 10^scale`, written without float formatting
    /// (`Dec(15, 1)` is `1.5`, `Dec(100, 2)` is `1`): seconds from
    /// centiseconds or milliseconds. (f64 printing would link ~9 kB.)
    Dec(u64, u8),
    /// A real number, as the test-only parser reads one.
    #[cfg(test)]
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
    /// A value written on one line even inside indented output (long
    /// lists of records: one per line keeps them greppable and small).
    Inline(Box<Json>),
}

impl Json {
    /// An empty object, to be filled with `field`.
    pub fn object() -> Json {
        Json::Object(Vec::new())
    }

    /// Builder: add `key: value` to an object (no effect on other kinds).
    pub fn field(self, key: &str, value: impl Into<Json>) -> Json {
        self.field_json(key, value.into())
    }

    /// `field`'s body, one copy for all value types and its ~300 callers
    /// (the generic part is only the conversion).
    #[inline(never)]
    pub fn field_json(mut self, key: &str, value: Json) -> Json {
        if let Json::Object(fields) = &mut self {
            fields.push((key.to_string(), value));
        }
        self
    }

    /// This value, written on one line wherever it appears.
    pub fn inline(self) -> Json {
        Json::Inline(Box::new(self))
    }

    /// The value under `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Json::Inline(v) => v.get(key),
            _ => None,
        }
    }

    /// Compact text on one line.
    pub fn to_compact(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None, 0);
        out
    }

    /// Indented text (2 spaces), ending with a newline.
    pub fn to_pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, Some(2), 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, indent: Option<usize>, depth: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::UInt(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Dec(v, scale) => {
                let div = 10u64.saturating_pow(u32::from(*scale));
                let (int, mut frac, mut digits) = (v / div, v % div, *scale);
                let _ = write!(out, "{int}");
                while frac > 0 && frac % 10 == 0 {
                    frac /= 10;
                    digits -= 1;
                }
                if frac > 0 {
                    let _ = write!(out, ".{frac:0w$}", w = usize::from(digits));
                }
            }
            #[cfg(test)]
            Json::Float(x) => {
                if x.is_finite() {
                    // Rust's shortest round-trip form: "0.1", "1", "1e-7".
                    let _ = write!(out, "{x}");
                } else {
                    out.push_str("null");
                }
            }
            Json::Str(s) => write_string(out, s),
            Json::Inline(v) => v.write(out, None, depth),
            Json::Array(items) => {
                if items.is_empty() {
                    out.push_str("[]");
                    return;
                }
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, depth + 1);
                    item.write(out, indent, depth + 1);
                }
                newline(out, indent, depth);
                out.push(']');
            }
            Json::Object(fields) => {
                if fields.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, depth + 1);
                    write_string(out, key);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    value.write(out, indent, depth + 1);
                }
                newline(out, indent, depth);
                out.push('}');
            }
        }
    }
}

fn newline(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(step) = indent {
        out.push('\n');
        for _ in 0..step.saturating_mul(depth) {
            out.push(' ');
        }
    }
}

/// Write `s` as a JSON string literal: quotes, backslashes and all control
/// characters (U+0000–U+001F, and U+007F for safety) are escaped.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}
impl From<u64> for Json {
    fn from(n: u64) -> Json {
        Json::UInt(n)
    }
}
impl From<u32> for Json {
    fn from(n: u32) -> Json {
        Json::UInt(u64::from(n))
    }
}
impl From<u16> for Json {
    fn from(n: u16) -> Json {
        Json::UInt(u64::from(n))
    }
}
impl From<u8> for Json {
    fn from(n: u8) -> Json {
        Json::UInt(u64::from(n))
    }
}
impl From<i64> for Json {
    fn from(n: i64) -> Json {
        Json::Int(n)
    }
}
#[cfg(test)]
impl From<f64> for Json {
    fn from(x: f64) -> Json {
        Json::Float(x)
    }
}
impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_string())
    }
}
impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}
impl From<Vec<Json>> for Json {
    fn from(items: Vec<Json>) -> Json {
        Json::Array(items)
    }
}
impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Json {
        match v {
            Some(v) => v.into(),
            None => Json::Null,
        }
    }
}

/// A strict RFC 8259 parser, for tests only: checks that what we write is
/// valid JSON and reads it back into a `Json` (integers become `UInt`/`Int`,
/// anything with a fraction or exponent `Float`).
#[cfg(test)]
pub(crate) mod check {
    use super::Json;

    pub fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        p.ws();
        let v = p.value(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing data at {}", p.i));
        }
        Ok(v)
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn peek(&self) -> Option<u8> {
            self.s.get(self.i).copied()
        }
        fn ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
                self.i += 1;
            }
        }
        fn eat(&mut self, lit: &str) -> Result<(), String> {
            if self.s[self.i..].starts_with(lit.as_bytes()) {
                self.i += lit.len();
                Ok(())
            } else {
                Err(format!("expected {lit} at {}", self.i))
            }
        }
        fn value(&mut self, depth: usize) -> Result<Json, String> {
            if depth > 64 {
                return Err("too deep".into());
            }
            match self.peek() {
                Some(b'n') => self.eat("null").map(|_| Json::Null),
                Some(b't') => self.eat("true").map(|_| Json::Bool(true)),
                Some(b'f') => self.eat("false").map(|_| Json::Bool(false)),
                Some(b'"') => self.string().map(Json::Str),
                Some(b'[') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                        return Ok(Json::Array(items));
                    }
                    loop {
                        self.ws();
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(Json::Array(items));
                            }
                            _ => return Err(format!("bad array at {}", self.i)),
                        }
                    }
                }
                Some(b'{') => {
                    self.i += 1;
                    let mut fields = Vec::new();
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(Json::Object(fields));
                    }
                    loop {
                        self.ws();
                        let k = self.string()?;
                        self.ws();
                        self.eat(":")?;
                        self.ws();
                        let v = self.value(depth + 1)?;
                        if fields.iter().any(|(key, _)| *key == k) {
                            return Err(format!("duplicate key {k}"));
                        }
                        fields.push((k, v));
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(Json::Object(fields));
                            }
                            _ => return Err(format!("bad object at {}", self.i)),
                        }
                    }
                }
                Some(b'-' | b'0'..=b'9') => self.number(),
                _ => Err(format!("unexpected byte at {}", self.i)),
            }
        }
        fn number(&mut self) -> Result<Json, String> {
            let start = self.i;
            if self.peek() == Some(b'-') {
                self.i += 1;
            }
            let digits = |p: &mut Self| {
                let s = p.i;
                while matches!(p.peek(), Some(b'0'..=b'9')) {
                    p.i += 1;
                }
                p.i - s
            };
            let int_start = self.i;
            let n = digits(self);
            if n == 0 || (n > 1 && self.s[int_start] == b'0') {
                return Err(format!("bad number at {start}"));
            }
            let mut real = false;
            if self.peek() == Some(b'.') {
                self.i += 1;
                real = true;
                if digits(self) == 0 {
                    return Err(format!("bad fraction at {start}"));
                }
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.i += 1;
                real = true;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                if digits(self) == 0 {
                    return Err(format!("bad exponent at {start}"));
                }
            }
            let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
            if real {
                text.parse().map(Json::Float).map_err(|e| format!("{e}"))
            } else if text.starts_with('-') {
                text.parse().map(Json::Int).map_err(|e| format!("{e}"))
            } else {
                text.parse().map(Json::UInt).map_err(|e| format!("{e}"))
            }
        }
        fn string(&mut self) -> Result<String, String> {
            self.eat("\"")?;
            let mut out = Vec::new();
            loop {
                let Some(c) = self.peek() else {
                    return Err("unterminated string".into());
                };
                self.i += 1;
                match c {
                    b'"' => break,
                    b'\\' => {
                        let e = self.peek().ok_or("bad escape")?;
                        self.i += 1;
                        let ch = match e {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{08}',
                            b'f' => '\u{0c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' => {
                                let hex = self.s.get(self.i..self.i + 4).ok_or("short \\u")?;
                                let hex = std::str::from_utf8(hex).map_err(|e| e.to_string())?;
                                let code =
                                    u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                                self.i += 4;
                                char::from_u32(code).ok_or("surrogate \\u not supported")?
                            }
                            _ => return Err(format!("bad escape at {}", self.i)),
                        };
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    c if c < 0x20 => {
                        return Err(format!("raw control byte in string at {}", self.i));
                    }
                    c => out.push(c),
                }
            }
            String::from_utf8(out).map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check::parse;
    use super::*;

    #[test]
    fn inline_values_stay_on_one_line_inside_indented_output() {
        let rec = |n: u64| {
            Json::object()
                .field("id", n.to_string())
                .field("ports", vec![Json::UInt(1), Json::UInt(2)])
                .inline()
        };
        let doc = Json::object().field("sessions", vec![rec(1), rec(2)]);
        let text = doc.to_pretty();
        assert_eq!(
            text,
            "{\n  \"sessions\": [\n    {\"id\":\"1\",\"ports\":[1,2]},\n    {\"id\":\"2\",\"ports\":[1,2]}\n  ]\n}\n"
        );
        // It parses back to the same values (without the Inline wrapper).
        let back = parse(&text).unwrap();
        let Some(Json::Array(list)) = back.get("sessions") else {
            panic!("{back:?}")
        };
        assert_eq!(list[1].get("id"), Some(&"2".into()));
        assert_eq!(doc.get("sessions").map(|_| ()), Some(()));
        assert_eq!(rec(7).get("id"), Some(&"7".into()));
    }

    #[test]
    fn scalars() {
        assert_eq!(Json::Null.to_compact(), "null");
        assert_eq!(Json::Bool(true).to_compact(), "true");
        assert_eq!(Json::Bool(false).to_compact(), "false");
        assert_eq!(Json::UInt(u64::MAX).to_compact(), "18446744073709551615");
        assert_eq!(Json::Int(-42).to_compact(), "-42");
        assert_eq!(Json::Dec(10, 2).to_compact(), "0.1");
        assert_eq!(Json::Dec(100, 2).to_compact(), "1");
        assert_eq!(Json::Dec(5, 2).to_compact(), "0.05");
        assert_eq!(Json::Dec(7_887_250, 3).to_compact(), "7887.25");
        assert_eq!(Json::Dec(4095, 2).to_compact(), "40.95");
        assert_eq!(Json::Dec(0, 3).to_compact(), "0");
        assert_eq!(Json::Float(0.1).to_compact(), "0.1");
        assert_eq!(Json::Float(1.0).to_compact(), "1");
        assert_eq!(Json::Float(7887.25).to_compact(), "7887.25");
        assert_eq!(Json::Float(f64::NAN).to_compact(), "null");
        assert_eq!(Json::Float(f64::INFINITY).to_compact(), "null");
    }

    #[test]
    fn quotes_backslashes_and_control_characters_are_escaped() {
        let s = "a\"b\\c\nd\re\tf\u{08}g\u{0c}h\u{0}i\u{1}j\u{1f}k\u{7f}l/é☃";
        let text = Json::from(s).to_compact();
        assert_eq!(
            text,
            "\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0000i\\u0001j\\u001fk\\u007fl/é☃\""
        );
        // No raw control character survives.
        assert!(!text.chars().any(|c| (c as u32) < 0x20));
        // And it reads back to the same string.
        assert_eq!(parse(&text).unwrap(), Json::Str(s.to_string()));
    }

    #[test]
    fn every_control_character_round_trips() {
        for code in 0u32..0x20 {
            let s: String = ['x', char::from_u32(code).unwrap(), 'y'].iter().collect();
            let text = Json::from(s.as_str()).to_compact();
            assert!(
                !text.chars().any(|c| (c as u32) < 0x20),
                "{code:#x}: {text}"
            );
            assert_eq!(parse(&text).unwrap(), Json::Str(s), "{code:#x}");
        }
    }

    #[test]
    fn nested_pretty_and_compact() {
        let v = Json::object()
            .field("name", "lan")
            .field("vrid", 42u8)
            .field("up", true)
            .field("master", Option::<&str>::None)
            .field("vips", vec![Json::from("10.0.0.1"), Json::from("10.0.0.2")])
            .field("empty", Vec::<Json>::new())
            .field("nothing", Json::object());
        assert_eq!(
            v.to_compact(),
            r#"{"name":"lan","vrid":42,"up":true,"master":null,"vips":["10.0.0.1","10.0.0.2"],"empty":[],"nothing":{}}"#
        );
        let pretty = v.to_pretty();
        assert_eq!(
            pretty,
            "{\n  \"name\": \"lan\",\n  \"vrid\": 42,\n  \"up\": true,\n  \"master\": null,\n  \"vips\": [\n    \"10.0.0.1\",\n    \"10.0.0.2\"\n  ],\n  \"empty\": [],\n  \"nothing\": {}\n}\n"
        );
        assert_eq!(parse(&pretty).unwrap(), v);
        assert_eq!(parse(&v.to_compact()).unwrap(), v);
        assert_eq!(v.get("vrid"), Some(&Json::UInt(42)));
        assert_eq!(v.get("nope"), None);
    }

    #[test]
    fn checker_rejects_invalid_json() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            "\"a\nb\"",
            "nul",
            "{\"a\" 1}",
            "[1] x",
            "{\"a\":1,\"a\":2}",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
