use napi::bindgen_prelude::{AsyncTask, BigInt64Array, Float64Array, Uint32Array, Uint8Array};
use napi::{Env, Task};
use napi_derive::napi;
use sluice_engine::columns::KeyColumn;
use sluice_engine::reduce::{self, BytesGroups, I64Groups};
use sluice_engine::{agg, AggOp};

use crate::errors::{catch_panic, to_napi};

/// Parses the op name JavaScript passed (`sum`, `count`, `min`, `max` or `mean`).
fn parse_op(op: &str) -> napi::Result<AggOp, String> {
    AggOp::parse(op).map_err(to_napi)
}

/// One row per distinct UTF-8 key (first-seen order) with its aggregate.
#[napi(object)]
pub struct Utf8Groups {
    pub keys: Uint8Array,
    pub offsets: Uint32Array,
    pub values: Float64Array,
}

impl From<BytesGroups> for Utf8Groups {
    fn from(groups: BytesGroups) -> Self {
        Self {
            keys: Uint8Array::new(groups.keys),
            offsets: Uint32Array::new(groups.offsets),
            values: Float64Array::new(groups.values),
        }
    }
}

/// One row per distinct 64-bit key (first-seen order) with its aggregate.
#[napi(object)]
pub struct I64KeyGroups {
    pub keys: BigInt64Array,
    pub values: Float64Array,
}

impl From<I64Groups> for I64KeyGroups {
    fn from(groups: I64Groups) -> Self {
        Self {
            keys: BigInt64Array::new(groups.keys),
            values: Float64Array::new(groups.values),
        }
    }
}

/// reduceByKey over UTF-8 keys (blob + offsets); `values` may be empty for `count`.
#[napi(catch_unwind)]
pub fn reduce_by_key_utf8(
    keys: &[u8],
    offsets: &[u32],
    values: &[f64],
    #[napi(ts_arg_type = "'sum' | 'count' | 'min' | 'max' | 'mean'")] op: String,
) -> napi::Result<Utf8Groups, String> {
    let column = KeyColumn::new(keys, offsets).map_err(to_napi)?;
    reduce::reduce_by_key_bytes(column, values, parse_op(&op)?)
        .map(Utf8Groups::from)
        .map_err(to_napi)
}

/// reduceByKey over 64-bit integer keys; `values` may be empty for `count`.
#[napi(catch_unwind)]
pub fn reduce_by_key_i64(
    keys: &[i64],
    values: &[f64],
    #[napi(ts_arg_type = "'sum' | 'count' | 'min' | 'max' | 'mean'")] op: String,
) -> napi::Result<I64KeyGroups, String> {
    reduce::reduce_by_key_i64(keys, values, parse_op(&op)?)
        .map(I64KeyGroups::from)
        .map_err(to_napi)
}

/// reduceByKey over UTF-8 keys on the libuv thread pool. The inputs are checked before the
/// task is queued and must not be modified until the promise settles.
pub struct ReduceUtf8Task {
    keys: Uint8Array,
    offsets: Uint32Array,
    values: Float64Array,
    op: AggOp,
}

impl Task for ReduceUtf8Task {
    type Output = BytesGroups;
    type JsValue = Utf8Groups;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let (keys, offsets, values, op) = (&self.keys, &self.offsets, &self.values, self.op);
        catch_panic(|| {
            let column = KeyColumn::new(keys, offsets).expect("offsets checked before queueing");
            reduce::reduce_by_key_bytes(column, values, op)
                .expect("arguments checked before queueing")
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output.into())
    }
}

/// reduceByKey over UTF-8 keys, computed on the libuv thread pool.
#[napi(catch_unwind, ts_return_type = "Promise<Utf8Groups>")]
pub fn reduce_by_key_utf8_async(
    keys: Uint8Array,
    offsets: Uint32Array,
    values: Float64Array,
    #[napi(ts_arg_type = "'sum' | 'count' | 'min' | 'max' | 'mean'")] op: String,
) -> napi::Result<AsyncTask<ReduceUtf8Task>, String> {
    let op = parse_op(&op)?;
    KeyColumn::new(&keys, &offsets).map_err(to_napi)?;
    agg::check_values(op, offsets.len().saturating_sub(1), values.len()).map_err(to_napi)?;
    Ok(AsyncTask::new(ReduceUtf8Task {
        keys,
        offsets,
        values,
        op,
    }))
}

/// reduceByKey over 64-bit keys on the libuv thread pool.
pub struct ReduceI64Task {
    keys: BigInt64Array,
    values: Float64Array,
    op: AggOp,
}

impl Task for ReduceI64Task {
    type Output = I64Groups;
    type JsValue = I64KeyGroups;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let (keys, values, op) = (&self.keys, &self.values, self.op);
        catch_panic(|| {
            reduce::reduce_by_key_i64(keys, values, op).expect("arguments checked before queueing")
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output.into())
    }
}

/// reduceByKey over 64-bit integer keys, computed on the libuv thread pool.
#[napi(catch_unwind, ts_return_type = "Promise<I64KeyGroups>")]
pub fn reduce_by_key_i64_async(
    keys: BigInt64Array,
    values: Float64Array,
    #[napi(ts_arg_type = "'sum' | 'count' | 'min' | 'max' | 'mean'")] op: String,
) -> napi::Result<AsyncTask<ReduceI64Task>, String> {
    let op = parse_op(&op)?;
    agg::check_values(op, keys.len(), values.len()).map_err(to_napi)?;
    Ok(AsyncTask::new(ReduceI64Task { keys, values, op }))
}
