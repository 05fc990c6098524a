use napi::bindgen_prelude::Uint32Array;
use napi_derive::napi;
use sluice_engine::columns::KeyColumn;
use sluice_engine::{hash, partition, shuffle};

use crate::errors::to_napi;
use crate::reduce::Utf8Groups;

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

/// Rows grouped by partition, stable within a partition.
#[napi(object)]
pub struct ShuffleResult {
    /// Row numbers, partition by partition.
    pub permutation: Uint32Array,
    /// `numPartitions + 1` offsets into `permutation`.
    pub bounds: Uint32Array,
}

/// Groups rows by their partition id (stable counting sort).
#[napi(catch_unwind)]
pub fn shuffle(partition_ids: &[u32], num_partitions: u32) -> napi::Result<ShuffleResult, String> {
    let out = shuffle::shuffle(partition_ids, num_partitions).map_err(to_napi)?;
    Ok(ShuffleResult {
        permutation: Uint32Array::new(out.permutation),
        bounds: Uint32Array::new(out.bounds),
    })
}

/// UTF-8 keys with their values spread over `numPartitions` partitions by MurmurHash3 %
/// numPartitions, each in the rows' order: `hashPartitionUtf8` + `shuffle` + gathering in one
/// call. `values` holds one value per key, or none.
#[napi(catch_unwind)]
pub fn place_rows_utf8(
    keys: &[u8],
    offsets: &[u32],
    values: &[f64],
    num_partitions: u32,
) -> napi::Result<Vec<Utf8Groups>, String> {
    let column = KeyColumn::new(keys, offsets).map_err(to_napi)?;
    let parts = partition::place_rows_bytes(column, values, num_partitions).map_err(to_napi)?;
    Ok(parts.into_iter().map(Utf8Groups::from).collect())
}

/// Sum of a Float64Array in row order; a probe that the addon loaded and borrows memory.
#[napi(catch_unwind)]
pub fn sum_f64(values: &[f64]) -> f64 {
    values.iter().sum()
}
