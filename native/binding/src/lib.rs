//! `@sluice/native`: the N-API face of `sluice-engine`.
//!
//! Every export borrows its typed-array inputs for the duration of the call, returns owned
//! typed arrays, catches panics, and reports engine errors with a stable `code`.

use napi::bindgen_prelude::Uint32Array;
use napi_derive::napi;
use sluice_engine::columns::KeyColumn;
use sluice_engine::{hash, partition, EngineError};

fn to_napi(err: EngineError) -> napi::Error<String> {
    napi::Error::new(err.code().to_string(), err.to_string())
}

/// MurmurHash3 x86_32 (seed 0) of every key in a UTF-8 blob described by `rows + 1` offsets.
#[napi(catch_unwind)]
pub fn murmur3_utf8(keys: &[u8], offsets: &[u32]) -> napi::Result<Uint32Array, String> {
    let column = KeyColumn::new(keys, offsets).map_err(to_napi)?;
    let hashes: Vec<u32> = column.iter().map(|key| hash::murmur3_32(key, 0)).collect();
    Ok(Uint32Array::new(hashes))
}

/// The partition (0..numPartitions) of every key in a UTF-8 blob described by offsets.
#[napi(catch_unwind)]
pub fn hash_partition_utf8(
    keys: &[u8],
    offsets: &[u32],
    num_partitions: u32,
) -> napi::Result<Uint32Array, String> {
    let column = KeyColumn::new(keys, offsets).map_err(to_napi)?;
    let mut out = vec![0u32; column.len()];
    partition::hash_partition_bytes(column, num_partitions, &mut out).map_err(to_napi)?;
    Ok(Uint32Array::new(out))
}

/// The partition of every 64-bit integer key of a `BigInt64Array`.
#[napi(catch_unwind)]
pub fn hash_partition_i64(keys: &[i64], num_partitions: u32) -> napi::Result<Uint32Array, String> {
    let mut out = vec![0u32; keys.len()];
    partition::hash_partition_i64(keys, num_partitions, &mut out).map_err(to_napi)?;
    Ok(Uint32Array::new(out))
}

/// Sum of a Float64Array in row order; a probe that the addon loaded and borrows memory.
#[napi(catch_unwind)]
pub fn sum_f64(values: &[f64]) -> f64 {
    values.iter().sum()
}
