use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{AsyncTask, Uint32Array, Uint8Array};
use napi::{Env, Task};
use napi_derive::napi;
use sluice_engine::columns::KeyColumn;
use sluice_engine::count::{self, ByteCounter, TextParser};
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

/// A count of a text parser's rows that lives across calls: the pieces of one partition
/// (source reads, or strings encoded a piece at a time) counted one after the other into the
/// same groups, which `finish` places into partitions. The same groups as `countParsed` over
/// the pieces' rows as one column, without joining them into one.
#[napi]
pub struct ParsedCounter {
    parser: OwnedTextParser,
    /// `None` once finished. Shared with the task counting on the libuv pool.
    counter: Arc<Mutex<Option<ByteCounter>>>,
}

fn finished() -> napi::Error<String> {
    to_napi(EngineError::InvalidArgument {
        name: "counter",
        reason: "this counter was finished; create a new one".into(),
    })
}

#[napi]
impl ParsedCounter {
    /// A counter of the rows `parser` finds.
    #[napi(constructor, catch_unwind)]
    pub fn new(parser: TextParserSpec) -> napi::Result<Self, String> {
        Ok(Self {
            parser: OwnedTextParser::from_spec(parser)?,
            counter: Arc::new(Mutex::new(Some(ByteCounter::with_capacity(1 << 12)))),
        })
    }

    /// Counts the rows the parser finds in `values` (blob + offsets).
    #[napi(catch_unwind)]
    pub fn count(&self, values: &[u8], offsets: &[u32]) -> napi::Result<(), String> {
        let column = KeyColumn::new(values, offsets).map_err(to_napi)?;
        let mut guard = self.counter.lock().unwrap_or_else(|e| e.into_inner());
        let counter = guard.as_mut().ok_or_else(finished)?;
        count::count_into(counter, column, self.parser.as_parser()).map_err(to_napi)
    }

    /// `count` on the libuv thread pool. The inputs are checked before the task is queued and
    /// must not be modified until the promise settles; calls on one counter run one at a time.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn count_async(
        &self,
        values: Uint8Array,
        offsets: Uint32Array,
    ) -> napi::Result<AsyncTask<CountIntoTask>, String> {
        KeyColumn::new(&values, &offsets).map_err(to_napi)?;
        Ok(AsyncTask::new(CountIntoTask {
            values,
            offsets,
            parser: self.parser.clone(),
            counter: Arc::clone(&self.counter),
        }))
    }

    /// The groups counted, in first-seen order, placed into `numPartitions` partitions by
    /// MurmurHash3 % numPartitions. The counter holds nothing afterwards.
    #[napi(catch_unwind)]
    pub fn finish(&self, num_partitions: u32) -> napi::Result<Vec<Utf8Groups>, String> {
        check_num_partitions(num_partitions)?;
        let counter = self
            .counter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(finished)?;
        let parts = counter.finish_placed(num_partitions).map_err(to_napi)?;
        Ok(parts.into_iter().map(Utf8Groups::from).collect())
    }
}

/// `ParsedCounter.countAsync`'s work on the libuv pool.
pub struct CountIntoTask {
    values: Uint8Array,
    offsets: Uint32Array,
    parser: OwnedTextParser,
    counter: Arc<Mutex<Option<ByteCounter>>>,
}

impl Task for CountIntoTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let (values, offsets, parser) = (&self.values, &self.offsets, &self.parser);
        let counter = &self.counter;
        let counted = catch_panic(|| {
            let column = KeyColumn::new(values, offsets).expect("offsets checked before queueing");
            let mut guard = counter.lock().unwrap_or_else(|e| e.into_inner());
            guard
                .as_mut()
                .map(|counter| count::count_into(counter, column, parser.as_parser()))
        })?;
        match counted {
            Some(Ok(())) => Ok(()),
            Some(Err(error)) => Err(napi::Error::new(
                napi::Status::GenericFailure,
                error.to_string(),
            )),
            None => Err(napi::Error::new(
                napi::Status::GenericFailure,
                "invalid argument `counter`: this counter was finished; create a new one",
            )),
        }
    }

    fn resolve(&mut self, _env: Env, _output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(())
    }
}
