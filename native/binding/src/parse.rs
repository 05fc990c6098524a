use napi::bindgen_prelude::{Float64Array, Uint32Array, Uint8Array};
use napi_derive::napi;
use sluice_engine::columns::KeyColumn;
use sluice_engine::parse::{self, ParsedColumn};

use crate::errors::to_napi;

/// A column of UTF-8 rows: blob plus `rows + 1` offsets.
#[napi(object)]
pub struct KeyColumnResult {
    pub keys: Uint8Array,
    pub offsets: Uint32Array,
}

/// A parsed column with one validity byte per row (1 = found and well formed).
#[napi(object)]
pub struct ParsedColumnResult {
    pub keys: Uint8Array,
    pub offsets: Uint32Array,
    pub valid: Uint8Array,
}

/// Parsed numbers (NaN where invalid) with one validity byte per row.
#[napi(object)]
pub struct ParsedNumbersResult {
    pub values: Float64Array,
    pub valid: Uint8Array,
}

fn key_column(parsed: ParsedColumn) -> KeyColumnResult {
    KeyColumnResult {
        keys: Uint8Array::new(parsed.keys),
        offsets: Uint32Array::new(parsed.offsets),
    }
}

fn parsed_column(parsed: ParsedColumn) -> ParsedColumnResult {
    ParsedColumnResult {
        keys: Uint8Array::new(parsed.keys),
        offsets: Uint32Array::new(parsed.offsets),
        valid: Uint8Array::new(parsed.valid),
    }
}

/// Splits every value (blob + offsets) into lines.
#[napi(catch_unwind)]
pub fn split_lines(values: &[u8], offsets: &[u32]) -> napi::Result<KeyColumnResult, String> {
    let column = KeyColumn::new(values, offsets).map_err(to_napi)?;
    Ok(key_column(parse::split_lines(column)))
}

/// Splits every value into words separated by ASCII whitespace.
#[napi(catch_unwind)]
pub fn split_words(values: &[u8], offsets: &[u32]) -> napi::Result<KeyColumnResult, String> {
    let column = KeyColumn::new(values, offsets).map_err(to_napi)?;
    Ok(key_column(parse::split_words(column)))
}

/// Field `index` of every value read as one CSV record; `delimiter` is an ASCII byte.
#[napi(catch_unwind)]
pub fn csv_column(
    values: &[u8],
    offsets: &[u32],
    index: u32,
    delimiter: u32,
) -> napi::Result<ParsedColumnResult, String> {
    let column = KeyColumn::new(values, offsets).map_err(to_napi)?;
    let delimiter = u8::try_from(delimiter).unwrap_or(0xff);
    parse::csv_column(column, index, delimiter)
        .map(parsed_column)
        .map_err(to_napi)
}

/// The number in top-level member `field` of every value read as a JSON object.
#[napi(catch_unwind)]
pub fn json_number_field(
    values: &[u8],
    offsets: &[u32],
    field: String,
) -> napi::Result<ParsedNumbersResult, String> {
    let column = KeyColumn::new(values, offsets).map_err(to_napi)?;
    let parsed = parse::json_number_field(column, field.as_bytes());
    Ok(ParsedNumbersResult {
        values: Float64Array::new(parsed.values),
        valid: Uint8Array::new(parsed.valid),
    })
}

/// The string in top-level member `field` of every value read as a JSON object, unescaped.
#[napi(catch_unwind)]
pub fn json_string_field(
    values: &[u8],
    offsets: &[u32],
    field: String,
) -> napi::Result<ParsedColumnResult, String> {
    let column = KeyColumn::new(values, offsets).map_err(to_napi)?;
    Ok(parsed_column(parse::json_string_field(
        column,
        field.as_bytes(),
    )))
}
