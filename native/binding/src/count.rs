use napi::bindgen_prelude::{AsyncTask, Uint32Array, Uint8Array};
use napi::{Env, Task};
use napi_derive::napi;
use sluice_engine::columns::KeyColumn;
use sluice_engine::count::{self, TextParser};
use sluice_engine::reduce::BytesGroups;
use sluice_engine::EngineError;

use crate::errors::{catch_panic, to_napi};
use crate::reduce::Utf8Groups;

/// A parser whose rows are text, as JavaScript describes it: `kind` is `lines`, `words`,
/// `csvColumn` (with `index` and the `delimiter` byte) or `jsonStringField` (with `field`).
#[napi(object)]
pub struct TextParserSpec {
    #[napi(ts_type = "'lines' | 'words' | 'csvColumn' | 'jsonStringField'")]
    pub kind: String,
    pub index: Option<u32>,
    pub delimiter: Option<u32>,
    pub field: Option<String>,
}

/// A checked parser that owns its arguments, so it can travel to a libuv worker.
#[derive(Debug, Clone)]
pub enum OwnedTextParser {
    Lines,
    Words,
    CsvColumn { index: u32, delimiter: u8 },
    JsonStringField { field: Vec<u8> },
}

impl OwnedTextParser {
    /// Reads and checks the JavaScript description.
    pub fn from_spec(spec: TextParserSpec) -> napi::Result<Self, String> {
        let missing = |name: &'static str| {
            to_napi(EngineError::InvalidArgument {
                name,
                reason: format!("{} needs it", spec.kind),
            })
        };
        let parser = match spec.kind.as_str() {
            "lines" => Self::Lines,
            "words" => Self::Words,
            "csvColumn" => Self::CsvColumn {
                index: spec.index.ok_or_else(|| missing("index"))?,
                delimiter: spec
                    .delimiter
                    .ok_or_else(|| missing("delimiter"))
                    .map(|d| u8::try_from(d).unwrap_or(0xff))?,
            },
            "jsonStringField" => Self::JsonStringField {
                field: spec
                    .field
                    .clone()
                    .ok_or_else(|| missing("field"))?
                    .into_bytes(),
            },
            other => {
                return Err(to_napi(EngineError::InvalidArgument {
                    name: "parser",
                    reason: format!(
                        "kind must be lines, words, csvColumn or jsonStringField; got {other:?}"
                    ),
                }))
            }
        };
        parser.as_parser().check().map_err(to_napi)?;
        Ok(parser)
    }

    /// The engine's view of the parser.
    pub fn as_parser(&self) -> TextParser<'_> {
        match self {
            Self::Lines => TextParser::Lines,
            Self::Words => TextParser::Words,
            Self::CsvColumn { index, delimiter } => TextParser::CsvColumn {
                index: *index,
                delimiter: *delimiter,
            },
            Self::JsonStringField { field } => TextParser::JsonStringField { field },
        }
    }
}

fn check_num_partitions(num_partitions: u32) -> napi::Result<(), String> {
    if num_partitions == 0 {
        return Err(to_napi(EngineError::InvalidArgument {
            name: "numPartitions",
            reason: "must be at least 1".into(),
        }));
    }
    Ok(())
}

/// Parses every value with `parser` and counts each distinct row (the parser's valid rows), in
/// one pass without building the parsed column; the groups (first-seen order) placed into
/// `numPartitions` partitions by MurmurHash3 % numPartitions (1: one partition, all groups).
#[napi(catch_unwind)]
pub fn count_parsed(
    values: &[u8],
    offsets: &[u32],
    parser: TextParserSpec,
    num_partitions: u32,
) -> napi::Result<Vec<Utf8Groups>, String> {
    let column = KeyColumn::new(values, offsets).map_err(to_napi)?;
    let parser = OwnedTextParser::from_spec(parser)?;
    check_num_partitions(num_partitions)?;
    count::count_parsed_partitioned(column, parser.as_parser(), num_partitions)
        .map(|parts| parts.into_iter().map(Utf8Groups::from).collect())
        .map_err(to_napi)
}

/// `countParsed` on the libuv thread pool. The inputs are checked before the task is queued
/// and must not be modified until the promise settles.
pub struct CountParsedTask {
    values: Uint8Array,
    offsets: Uint32Array,
    parser: OwnedTextParser,
    num_partitions: u32,
}

impl Task for CountParsedTask {
    type Output = Vec<BytesGroups>;
    type JsValue = Vec<Utf8Groups>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let (values, offsets) = (&self.values, &self.offsets);
        let (parser, num_partitions) = (&self.parser, self.num_partitions);
        catch_panic(|| {
            let column = KeyColumn::new(values, offsets).expect("offsets checked before queueing");
            count::count_parsed_partitioned(column, parser.as_parser(), num_partitions)
                .expect("arguments checked before queueing")
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output.into_iter().map(Utf8Groups::from).collect())
    }
}

/// `countParsed`, computed on the libuv thread pool.
#[napi(catch_unwind, ts_return_type = "Promise<Array<Utf8Groups>>")]
pub fn count_parsed_async(
    values: Uint8Array,
    offsets: Uint32Array,
    parser: TextParserSpec,
    num_partitions: u32,
) -> napi::Result<AsyncTask<CountParsedTask>, String> {
    KeyColumn::new(&values, &offsets).map_err(to_napi)?;
    let parser = OwnedTextParser::from_spec(parser)?;
    check_num_partitions(num_partitions)?;
    Ok(AsyncTask::new(CountParsedTask {
        values,
        offsets,
        parser,
        num_partitions,
    }))
}
