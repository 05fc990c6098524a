//! Hash partitioning: which partition each row's key belongs to.

use crate::columns::KeyColumn;
use crate::hash::{murmur3_32, murmur3_i64};
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
