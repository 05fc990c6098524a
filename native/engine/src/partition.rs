//! Hash partitioning: which partition each row's key belongs to.

use crate::columns::KeyColumn;
use crate::hash::{murmur3_32, murmur3_i64};
use crate::reduce::BytesGroups;
use crate::EngineError;

/// The partition of a key hash among `num_partitions` (unsigned modulo, like Spark's
/// non-negative mod).
#[inline]
pub fn partition_of(hash: u32, num_partitions: u32) -> u32 {
    hash % num_partitions
}

/// Writes the partition of every row of `keys` into `out` (one entry per row).
pub fn hash_partition_bytes(
    keys: KeyColumn<'_>,
    num_partitions: u32,
    out: &mut [u32],
) -> Result<(), EngineError> {
    check_partition_args(keys.len(), num_partitions, out.len())?;
    for (slot, key) in out.iter_mut().zip(keys.iter()) {
        *slot = partition_of(murmur3_32(key, 0), num_partitions);
    }
    Ok(())
}

/// Writes the partition of every 64-bit integer key into `out`.
pub fn hash_partition_i64(
    keys: &[i64],
    num_partitions: u32,
    out: &mut [u32],
) -> Result<(), EngineError> {
    check_partition_args(keys.len(), num_partitions, out.len())?;
    for (slot, &key) in out.iter_mut().zip(keys) {
        *slot = partition_of(murmur3_i64(key, 0), num_partitions);
    }
    Ok(())
}

/// Rows of byte keys with their values spread over `num_partitions` by MurmurHash3 (seed 0) %
/// `num_partitions`, keeping their order within each partition: what `hash_partition_bytes`
/// and a stable `shuffle` give, gathered, in one pass over the keys (each hashed once) and one
/// copy. `values` holds one value per row, or none (then every partition's values are empty).
pub fn place_rows_bytes(
    keys: KeyColumn<'_>,
    values: &[f64],
    num_partitions: u32,
) -> Result<Vec<BytesGroups>, EngineError> {
    let rows = keys.len();
    check_partition_args(rows, num_partitions, rows)?;
    if !values.is_empty() && values.len() != rows {
        return Err(EngineError::InvalidArgument {
            name: "values",
            reason: format!(
                "holds {} entries for {rows} keys (give one per key, or none)",
                values.len()
            ),
        });
    }
    let n = num_partitions as usize;
    let mut partition_of_row = Vec::with_capacity(rows);
    let mut rows_in = vec![0usize; n];
    let mut bytes_in = vec![0usize; n];
    for key in keys.iter() {
        let p = partition_of(murmur3_32(key, 0), num_partitions) as usize;
        partition_of_row.push(p as u32);
        rows_in[p] += 1;
        bytes_in[p] += key.len();
    }
    let mut out: Vec<BytesGroups> = (0..n)
        .map(|p| {
            let mut offsets = Vec::with_capacity(rows_in[p] + 1);
            offsets.push(0);
            BytesGroups {
                keys: Vec::with_capacity(bytes_in[p]),
                offsets,
                values: Vec::with_capacity(if values.is_empty() { 0 } else { rows_in[p] }),
            }
        })
        .collect();
    for (row, (key, &p)) in keys.iter().zip(&partition_of_row).enumerate() {
        let part = &mut out[p as usize];
        part.keys.extend_from_slice(key);
        part.offsets.push(part.keys.len() as u32);
        if let Some(&value) = values.get(row) {
            part.values.push(value);
        }
    }
    Ok(out)
}

fn check_partition_args(
    rows: usize,
    num_partitions: u32,
    out_len: usize,
) -> Result<(), EngineError> {
    if num_partitions == 0 {
        return Err(EngineError::InvalidArgument {
            name: "numPartitions",
            reason: "must be at least 1".into(),
        });
    }
    if out_len != rows {
        return Err(EngineError::InvalidArgument {
            name: "out",
            reason: format!("holds {out_len} entries for {rows} rows"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn partitions_utf8_keys() {
        let keys = KeyColumn::new(b"hello", &[0, 5]).unwrap();
        let mut out = [0u32; 1];
        hash_partition_bytes(keys, 7, &mut out).unwrap();
        assert_eq!(out[0], 0x248b_fa47 % 7);
    }

    #[test]
    fn rejects_zero_partitions() {
        let keys = KeyColumn::new(b"", &[0]).unwrap();
        let err = hash_partition_bytes(keys, 0, &mut []).unwrap_err();
        assert_eq!(err.code(), "SLUICE_NATIVE_INVALID_ARGUMENT");
    }

    #[test]
    fn places_rows_keeping_their_order() {
        let keys = KeyColumn::new(b"abcabc", &[0, 1, 2, 3, 4, 5, 6]).unwrap();
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let placed = place_rows_bytes(keys, &values, 2).unwrap();
        let mut ids = vec![0u32; 6];
        hash_partition_bytes(keys, 2, &mut ids).unwrap();
        for (p, part) in placed.iter().enumerate() {
            let rows: Vec<usize> = (0..6).filter(|&r| ids[r] as usize == p).collect();
            let expected: Vec<u8> = rows.iter().flat_map(|&r| keys.get(r).to_vec()).collect();
            assert_eq!(part.keys, expected);
            assert_eq!(part.offsets.len(), rows.len() + 1);
            assert_eq!(
                part.values,
                rows.iter().map(|&r| values[r]).collect::<Vec<_>>()
            );
        }
        let none = place_rows_bytes(keys, &[], 3).unwrap();
        assert!(none.iter().all(|part| part.values.is_empty()));
        assert_eq!(
            none.iter()
                .map(|part| part.offsets.len() - 1)
                .sum::<usize>(),
            6
        );
        assert!(place_rows_bytes(keys, &[1.0], 2).is_err());
        assert!(place_rows_bytes(keys, &values, 0).is_err());
    }

    proptest! {
        #[test]
        fn every_row_lands_in_range(keys in proptest::collection::vec(any::<i64>(), 0..200), n in 1u32..300) {
            let mut out = vec![0u32; keys.len()];
            hash_partition_i64(&keys, n, &mut out).unwrap();
            prop_assert!(out.iter().all(|&p| p < n));
            // Same key, same partition.
            for (i, &k) in keys.iter().enumerate() {
                prop_assert_eq!(out[i], partition_of(murmur3_i64(k, 0), n));
            }
        }
    }
}
