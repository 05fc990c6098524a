//! Byte parsers: turn a batch of message values (a key column) into columns without creating
//! strings. The rules here are the contract the TypeScript twin follows byte for byte.
//!
//! - `split_lines`: split on `\n`; drop one `\r` before each `\n` (and at the very end); a
//!   final `\n` does not start another line; an empty value has no lines.
//! - `split_words`: words are maximal runs of bytes other than ASCII whitespace
//!   (space, `\t`, `\n`, `\v`, `\f`, `\r`); Unicode spaces are part of words.
//! - `csv_column`: each value is one record (one trailing `\n` or `\r\n` ignored); fields are
//!   separated by `delimiter`; a field starting with `"` is quoted: `""` stands for `"`, and
//!   bytes after the closing quote up to the delimiter are kept; an unterminated quote runs to
//!   the end of the record. A record with too few fields gives an empty, invalid row.
//! - `json_*_field`: the value of a top-level member of a JSON object; the first member with
//!   that name wins (unlike `JSON.parse`, which keeps the last). Numbers must follow JSON's
//!   grammar and parse correctly rounded, like `Number()`; strings are unescaped, with lone
//!   surrogates written as U+FFFD. Anything else (missing member, wrong type, malformed input
//!   before the member) gives an invalid row: NaN or an empty key.

use crate::columns::KeyColumn;
use crate::EngineError;

/// A key column built by a parser: blob, `rows + 1` offsets, and optionally one validity byte
/// per row (1 = the row was found and well formed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedColumn {
    pub keys: Vec<u8>,
    pub offsets: Vec<u32>,
    pub valid: Vec<u8>,
}

impl ParsedColumn {
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Self {
            keys: Vec::with_capacity(bytes),
            offsets,
            valid: Vec::new(),
        }
    }

    #[inline]
    fn push(&mut self, bytes: &[u8]) {
        self.keys.extend_from_slice(bytes);
        self.end_row();
    }

    #[inline]
    fn end_row(&mut self) {
        self.offsets.push(self.keys.len() as u32);
    }
}

/// A numeric column built by a parser: one value and one validity byte per row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedNumbers {
    pub values: Vec<f64>,
    pub valid: Vec<u8>,
}

/// Splits every value into lines.
pub fn split_lines(values: KeyColumn<'_>) -> ParsedColumn {
    let mut out = ParsedColumn::with_capacity(values.len(), values_bytes(&values));
    for value in values.iter() {
        for_each_line(value, |line| out.push(line));
    }
    out
}

/// The lines of one value, as `split_lines` finds them.
#[inline]
pub(crate) fn for_each_line<'a>(value: &'a [u8], mut each: impl FnMut(&'a [u8])) {
    let mut rest = value;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        each(line.strip_suffix(b"\r").unwrap_or(line));
        rest = next;
    }
}

/// ASCII whitespace as the word splitter reads it: space, `\t`, `\n`, `\v`, `\f`, `\r`
/// (a compare against a bit mask, cheaper than a table lookup).
#[inline(always)]
pub(crate) fn is_word_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Splits every value into words separated by ASCII whitespace.
pub fn split_words(values: KeyColumn<'_>) -> ParsedColumn {
    let mut out = ParsedColumn::with_capacity(values.len() * 4, values_bytes(&values));
    for value in values.iter() {
        // `split` compiles to a tighter loop than indexing byte by byte.
        for word in value.split(|&b| is_word_space(b)) {
            if !word.is_empty() {
                out.push(word);
            }
        }
    }
    out
}

/// Field `index` (0-based) of every value read as a CSV record.
pub fn csv_column(
    values: KeyColumn<'_>,
    index: u32,
    delimiter: u8,
) -> Result<ParsedColumn, EngineError> {
    check_csv_delimiter(delimiter)?;
    let mut out = ParsedColumn::with_capacity(values.len(), values_bytes(&values) / 4);
    out.valid.reserve(values.len());
    for value in values.iter() {
        let record = strip_record_end(value);
        let found = csv_field(record, index, delimiter, &mut out.keys);
        out.valid.push(u8::from(found));
        out.end_row();
    }
    Ok(out)
}

/// Rejects a CSV delimiter other than one ASCII character besides `"`, `\r` and `\n`.
pub(crate) fn check_csv_delimiter(delimiter: u8) -> Result<(), EngineError> {
    if matches!(delimiter, b'"' | b'\n' | b'\r') || delimiter >= 0x80 {
        return Err(EngineError::InvalidArgument {
            name: "delimiter",
            reason: "must be one ASCII character other than a quote, \\r or \\n".into(),
        });
    }
    Ok(())
}

pub(crate) fn strip_record_end(value: &[u8]) -> &[u8] {
    let value = value.strip_suffix(b"\n").unwrap_or(value);
    value.strip_suffix(b"\r").unwrap_or(value)
}

/// Appends field `index` of `record` to `out`; false (nothing appended) when it is missing.
pub(crate) fn csv_field(record: &[u8], index: u32, delimiter: u8, out: &mut Vec<u8>) -> bool {
    let mut field = 0u32;
    let mut i = 0;
    let n = record.len();
    loop {
        let wanted = field == index;
        if i < n && record[i] == b'"' {
            i += 1;
            loop {
                match memchr::memchr(b'"', &record[i..]) {
                    None => {
                        if wanted {
                            out.extend_from_slice(&record[i..]);
                        }
                        i = n;
                        break;
                    }
                    Some(at) => {
                        if wanted {
                            out.extend_from_slice(&record[i..i + at]);
                        }
                        i += at + 1;
                        if i < n && record[i] == b'"' {
                            if wanted {
                                out.push(b'"');
                            }
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
        }
        let end = memchr::memchr(delimiter, &record[i..]).map_or(n, |at| i + at);
        if wanted {
            out.extend_from_slice(&record[i..end]);
            return true;
        }
        if end == n {
            return false;
        }
        i = end + 1;
        field += 1;
    }
}

/// The number in member `field` of every value read as a JSON object.
pub fn json_number_field(values: KeyColumn<'_>, field: &[u8]) -> ParsedNumbers {
    let mut out = ParsedNumbers {
        values: Vec::with_capacity(values.len()),
        valid: Vec::with_capacity(values.len()),
    };
    let mut scratch = Vec::new();
    for value in values.iter() {
        let number =
            find_member(value, field, &mut scratch).and_then(|at| parse_json_number(&value[at..]));
        out.values.push(number.unwrap_or(f64::NAN));
        out.valid.push(u8::from(number.is_some()));
    }
    out
}

/// The string in member `field` of every value read as a JSON object, unescaped.
pub fn json_string_field(values: KeyColumn<'_>, field: &[u8]) -> ParsedColumn {
    let mut out = ParsedColumn::with_capacity(values.len(), values_bytes(&values) / 4);
    out.valid.reserve(values.len());
    let mut scratch = Vec::new();
    for value in values.iter() {
        let found = json_string_member(value, field, &mut scratch, &mut out.keys);
        out.valid.push(u8::from(found));
        out.end_row();
    }
    out
}

/// Appends the unescaped string of member `field` of `value` to `out`; false (nothing
/// appended) when the member is missing, not a string, or malformed. `scratch` holds
/// unescaped member names.
pub(crate) fn json_string_member(
    value: &[u8],
    field: &[u8],
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> bool {
    let start = out.len();
    let found = find_member(value, field, scratch)
        .filter(|&at| value[at] == b'"')
        .and_then(|at| unescape_string(value, at + 1, out));
    if found.is_none() {
        out.truncate(start);
    }
    found.is_some()
}

fn values_bytes(values: &KeyColumn<'_>) -> usize {
    if values.is_empty() {
        0
    } else {
        let first = values.get(0).as_ptr() as usize;
        let last = values.get(values.len() - 1);
        last.as_ptr() as usize + last.len() - first
    }
}

#[inline]
fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The position of the value of the first top-level member named `field`, or None.
fn find_member(bytes: &[u8], field: &[u8], scratch: &mut Vec<u8>) -> Option<usize> {
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(bytes, i);
        match bytes.get(i)? {
            b'}' => return None,
            b'"' => {}
            _ => return None,
        }
        let key_start = i + 1;
        let key_end = string_end(bytes, key_start)?;
        let raw = &bytes[key_start..key_end];
        let matches = if memchr::memchr(b'\\', raw).is_none() {
            raw == field
        } else {
            scratch.clear();
            unescape_string(bytes, key_start, scratch)?;
            scratch.as_slice() == field
        };
        i = skip_ws(bytes, key_end + 1);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(bytes, i + 1);
        if i >= bytes.len() {
            return None;
        }
        if matches {
            return Some(i);
        }
        i = skip_value(bytes, i)?;
        i = skip_ws(bytes, i);
        match bytes.get(i)? {
            b',' => i += 1,
            _ => return None,
        }
    }
}

/// The position of the closing quote of the string whose content starts at `start`.
fn string_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let at = i + memchr::memchr2(b'"', b'\\', &bytes[i..])?;
        if bytes[at] == b'"' {
            return Some(at);
        }
        i = at + 2;
        if i > bytes.len() {
            return None;
        }
    }
}

/// The position just after the value starting at `i` (strings, nested containers, scalars).
fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes[i] {
        b'"' => Some(string_end(bytes, i + 1)? + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < bytes.len() {
                match bytes[j] {
                    b'"' => j = string_end(bytes, j + 1)?,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < bytes.len()
                && !matches!(bytes[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            Some(j)
        }
    }
}

/// Parses a JSON number at the start of `bytes` (followed by a delimiter or the end).
fn parse_json_number(bytes: &[u8]) -> Option<f64> {
    let n = bytes.len();
    let mut i = 0;
    if i < n && bytes[i] == b'-' {
        i += 1;
    }
    let int_start = i;
    while i < n && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_len = i - int_start;
    if int_len == 0 || (int_len > 1 && bytes[int_start] == b'0') {
        return None;
    }
    if i < n && bytes[i] == b'.' {
        i += 1;
        let start = i;
        while i < n && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i < n && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < n && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < n && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i < n && !matches!(bytes[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
        return None;
    }
    // ASCII digits, sign, dot and exponent only: valid UTF-8.
    std::str::from_utf8(&bytes[..i]).ok()?.parse::<f64>().ok()
}

/// Unescapes the JSON string whose content starts at `i` into `out`; None when malformed.
fn unescape_string(bytes: &[u8], mut i: usize, out: &mut Vec<u8>) -> Option<()> {
    loop {
        let at = i + memchr::memchr2(b'"', b'\\', &bytes[i..])?;
        out.extend_from_slice(&bytes[i..at]);
        if bytes[at] == b'"' {
            return Some(());
        }
        let escape = *bytes.get(at + 1)?;
        i = at + 2;
        let simple = match escape {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => 0,
            _ => return None,
        };
        if escape != b'u' {
            out.push(simple);
            continue;
        }
        let unit = hex4(bytes, i)?;
        i += 4;
        let code = if (0xd800..0xdc00).contains(&unit)
            && bytes.get(i) == Some(&b'\\')
            && bytes.get(i + 1) == Some(&b'u')
        {
            match hex4(bytes, i + 2) {
                Some(low) if (0xdc00..0xe000).contains(&low) => {
                    i += 6;
                    0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
                }
                _ => 0xfffd,
            }
        } else if (0xd800..0xe000).contains(&unit) {
            0xfffd
        } else {
            unit
        };
        let ch = char::from_u32(code).unwrap_or('\u{fffd}');
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
}

fn hex4(bytes: &[u8], i: usize) -> Option<u32> {
    let digits = bytes.get(i..i + 4)?;
    let mut value = 0u32;
    for &d in digits {
        value = value * 16 + (d as char).to_digit(16)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn column(values: &[&str]) -> (Vec<u8>, Vec<u32>) {
        let mut blob = Vec::new();
        let mut offsets = vec![0u32];
        for v in values {
            blob.extend_from_slice(v.as_bytes());
            offsets.push(blob.len() as u32);
        }
        (blob, offsets)
    }

    fn rows(parsed: &ParsedColumn) -> Vec<String> {
        parsed
            .offsets
            .windows(2)
            .map(|w| {
                String::from_utf8_lossy(&parsed.keys[w[0] as usize..w[1] as usize]).into_owned()
            })
            .collect()
    }

    #[test]
    fn splits_lines() {
        let (blob, offsets) = column(&["a\nb\r\n\nc", "", "\n", "d\n", "e\r"]);
        let out = split_lines(KeyColumn::new(&blob, &offsets).unwrap());
        assert_eq!(rows(&out), vec!["a", "b", "", "c", "", "d", "e"]);
    }

    #[test]
    fn splits_words_on_ascii_whitespace() {
        let (blob, offsets) = column(&["  to be\tor\r\nnot\u{0b}x ", "", "\u{a0}é\u{a0}"]);
        let out = split_words(KeyColumn::new(&blob, &offsets).unwrap());
        assert_eq!(
            rows(&out),
            vec!["to", "be", "or", "not", "x", "\u{a0}é\u{a0}"]
        );
    }

    #[test]
    fn reads_csv_fields() {
        let (blob, offsets) = column(&[
            "a,b,c\r\n",
            "\"x,\"\"y\"\"\",2",
            "one",
            "\"q\"tail,z",
            "\"open,ended",
            "",
        ]);
        let keys = KeyColumn::new(&blob, &offsets).unwrap();
        let first = csv_column(keys, 0, b',').unwrap();
        assert_eq!(
            rows(&first),
            vec!["a", "x,\"y\"", "one", "qtail", "open,ended", ""]
        );
        assert_eq!(first.valid, vec![1, 1, 1, 1, 1, 1]);
        let second = csv_column(keys, 1, b',').unwrap();
        assert_eq!(rows(&second), vec!["b", "2", "", "z", "", ""]);
        assert_eq!(second.valid, vec![1, 1, 0, 1, 0, 0]);
        assert!(csv_column(keys, 0, b'"').is_err());
    }

    #[test]
    fn reads_json_members() {
        let (blob, offsets) = column(&[
            r#"{"a": 1, "n": -2.5e3, "s": "x\"\u00e9\ud83d\ude42"}"#,
            r#"{"nested": {"n": 1, "s": "no"}, "n": 7, "s": "yes"}"#,
            r#"{"n": "12", "s": 3}"#,
            r#"{"n": 01}"#,
            r#"[1, 2]"#,
            r#"{"n": 1, "n": 2, "s": "\ud800!"}"#,
            r#"{"\u006e": 5e400}"#,
            "",
        ]);
        let keys = KeyColumn::new(&blob, &offsets).unwrap();
        let numbers = json_number_field(keys, b"n");
        assert_eq!(numbers.valid, vec![1, 1, 0, 0, 0, 1, 1, 0]);
        assert_eq!(numbers.values[0], -2500.0);
        assert_eq!(numbers.values[1], 7.0);
        assert_eq!(numbers.values[5], 1.0);
        assert_eq!(numbers.values[6], f64::INFINITY);
        let strings = json_string_field(keys, b"s");
        assert_eq!(strings.valid, vec![1, 1, 0, 0, 0, 1, 0, 0]);
        assert_eq!(rows(&strings)[0], "x\"é🙂");
        assert_eq!(rows(&strings)[1], "yes");
        assert_eq!(rows(&strings)[5], "\u{fffd}!");
    }

    proptest! {
        #[test]
        fn words_match_a_split_on_whitespace(text in "[a-c \\t\\n\u{e9}]{0,40}") {
            let (blob, offsets) = column(&[&text]);
            let out = split_words(KeyColumn::new(&blob, &offsets).unwrap());
            let expected: Vec<String> = text.split([' ', '\t', '\n']).filter(|w| !w.is_empty()).map(String::from).collect();
            prop_assert_eq!(rows(&out), expected);
        }
    }
}
