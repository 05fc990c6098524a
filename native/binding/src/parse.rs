use napi::bindgen_prelude::{AsyncTask, Float64Array, Uint32Array, Uint8Array};
use napi::{Env, Task};
use napi_derive::napi;
use sluice_engine::columns::KeyColumn;
use sluice_engine::count::TextParser;
use sluice_engine::parse::{self, ParsedColumn, ParsedNumbers};

use crate::count::OwnedTextParser;
use crate::errors::{catch_panic, to_napi};

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

/// A text parser run on the libuv thread pool: lines, words, a CSV column or a JSON string
/// member. The inputs are checked before the task is queued and must not be modified until the
/// promise settles.
pub struct ParseTextTask {
    values: Uint8Array,
    offsets: Uint32Array,
    parser: OwnedTextParser,
}

impl Task for ParseTextTask {
    type Output = ParsedColumn;
    type JsValue = ParsedColumnResult;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let (values, offsets, parser) = (&self.values, &self.offsets, &self.parser);
        catch_panic(|| {
            let column = KeyColumn::new(values, offsets).expect("offsets checked before queueing");
            match parser.as_parser() {
                TextParser::Lines => parse::split_lines(column),
                TextParser::Words => parse::split_words(column),
                TextParser::CsvColumn { index, delimiter } => {
                    parse::csv_column(column, index, delimiter)
                        .expect("delimiter checked before queueing")
                }
                TextParser::JsonStringField { field } => parse::json_string_field(column, field),
            }
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(parsed_column(output))
    }
}

fn parse_text_async(
    values: Uint8Array,
    offsets: Uint32Array,
    parser: OwnedTextParser,
) -> napi::Result<AsyncTask<ParseTextTask>, String> {
    KeyColumn::new(&values, &offsets).map_err(to_napi)?;
    parser.as_parser().check().map_err(to_napi)?;
    Ok(AsyncTask::new(ParseTextTask {
        values,
        offsets,
        parser,
    }))
}

/// `splitLines` on the libuv thread pool (`valid` comes back empty: every row is valid).
#[napi(catch_unwind, ts_return_type = "Promise<ParsedColumnResult>")]
pub fn split_lines_async(
    values: Uint8Array,
    offsets: Uint32Array,
) -> napi::Result<AsyncTask<ParseTextTask>, String> {
    parse_text_async(values, offsets, OwnedTextParser::Lines)
}

/// `splitWords` on the libuv thread pool (`valid` comes back empty: every row is valid).
#[napi(catch_unwind, ts_return_type = "Promise<ParsedColumnResult>")]
pub fn split_words_async(
    values: Uint8Array,
    offsets: Uint32Array,
) -> napi::Result<AsyncTask<ParseTextTask>, String> {
    parse_text_async(values, offsets, OwnedTextParser::Words)
}

/// `csvColumn` on the libuv thread pool.
#[napi(catch_unwind, ts_return_type = "Promise<ParsedColumnResult>")]
pub fn csv_column_async(
    values: Uint8Array,
    offsets: Uint32Array,
    index: u32,
    delimiter: u32,
) -> napi::Result<AsyncTask<ParseTextTask>, String> {
    let delimiter = u8::try_from(delimiter).unwrap_or(0xff);
    parse_text_async(
        values,
        offsets,
        OwnedTextParser::CsvColumn { index, delimiter },
    )
}

/// `jsonStringField` on the libuv thread pool.
#[napi(catch_unwind, ts_return_type = "Promise<ParsedColumnResult>")]
pub fn json_string_field_async(
    values: Uint8Array,
    offsets: Uint32Array,
    field: String,
) -> napi::Result<AsyncTask<ParseTextTask>, String> {
    let field = field.into_bytes();
    parse_text_async(values, offsets, OwnedTextParser::JsonStringField { field })
}

/// `jsonNumberField` on the libuv thread pool.
pub struct JsonNumberTask {
    values: Uint8Array,
    offsets: Uint32Array,
    field: Vec<u8>,
}

impl Task for JsonNumberTask {
    type Output = ParsedNumbers;
    type JsValue = ParsedNumbersResult;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let (values, offsets, field) = (&self.values, &self.offsets, &self.field);
        catch_panic(|| {
            let column = KeyColumn::new(values, offsets).expect("offsets checked before queueing");
            parse::json_number_field(column, field)
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(ParsedNumbersResult {
            values: Float64Array::new(output.values),
            valid: Uint8Array::new(output.valid),
        })
    }
}

/// `jsonNumberField` on the libuv thread pool.
#[napi(catch_unwind, ts_return_type = "Promise<ParsedNumbersResult>")]
pub fn json_number_field_async(
    values: Uint8Array,
    offsets: Uint32Array,
    field: String,
) -> napi::Result<AsyncTask<JsonNumberTask>, String> {
    KeyColumn::new(&values, &offsets).map_err(to_napi)?;
    Ok(AsyncTask::new(JsonNumberTask {
        values,
        offsets,
        field: field.into_bytes(),
    }))
}
