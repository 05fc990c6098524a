//! Shuffle: a stable order of rows grouped by partition, as a permutation plus bounds.

use crate::EngineError;

/// Rows grouped by partition: partition `p` holds rows
/// `permutation[bounds[p]..bounds[p + 1]]`, in their original order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shuffled {
    pub permutation: Vec<u32>,
    pub bounds: Vec<u32>,
}

/// Groups the rows of `partition_ids` by partition with a stable counting sort.
pub fn shuffle(partition_ids: &[u32], num_partitions: u32) -> Result<Shuffled, EngineError> {
    if num_partitions == 0 {
        return Err(EngineError::InvalidArgument {
            name: "numPartitions",
            reason: "must be at least 1".into(),
        });
    }
    if partition_ids.len() > u32::MAX as usize {
        return Err(EngineError::InvalidArgument {
            name: "partitionIds",
            reason: format!("holds {} rows; at most 2^32 - 1 fit", partition_ids.len()),
        });
    }
    let n = num_partitions as usize;
    let mut bounds = vec![0u32; n + 1];
    count_rows(partition_ids, num_partitions, &mut bounds[1..])?;
    for p in 0..n {
        bounds[p + 1] += bounds[p];
    }
    let mut cursor: Vec<u32> = bounds[..n].to_vec();
    let rows = partition_ids.len();
    let mut permutation: Vec<u32> = Vec::with_capacity(rows);
    let spare = &mut permutation.spare_capacity_mut()[..rows];
    for (row, &p) in partition_ids.iter().enumerate() {
        // In range: count_rows checked every id.
        let slot = &mut cursor[p as usize];
        spare[*slot as usize].write(row as u32);
        *slot += 1;
    }
    // SAFETY: the cursors start at the partitions' bounds, which split 0..rows, and each row
    // advances its partition's cursor once, so every position in 0..rows was written exactly
    // once (skipping the zero-fill a `vec![0; rows]` would spend).
    unsafe { permutation.set_len(rows) };
    Ok(Shuffled {
        permutation,
        bounds,
    })
}

/// Counts rows per partition into `counts`, rejecting ids out of range. Four interleaved
/// counters break the store-to-load dependency when neighbouring rows share a partition.
fn count_rows(ids: &[u32], num_partitions: u32, counts: &mut [u32]) -> Result<(), EngineError> {
    let n = counts.len();
    let mut lanes = vec![0u32; n * 4];
    let mut chunks = ids.chunks_exact(4);
    let mut max_id = 0u32;
    for chunk in &mut chunks {
        let [a, b, c, d] = [chunk[0], chunk[1], chunk[2], chunk[3]];
        max_id = max_id.max(a).max(b).max(c).max(d);
        if max_id >= num_partitions {
            break;
        }
        lanes[a as usize] += 1;
        lanes[n + b as usize] += 1;
        lanes[2 * n + c as usize] += 1;
        lanes[3 * n + d as usize] += 1;
    }
    if max_id < num_partitions {
        for &id in chunks.remainder() {
            max_id = max_id.max(id);
            if id < num_partitions {
                lanes[id as usize] += 1;
            }
        }
    }
    if max_id >= num_partitions {
        let row = ids.iter().position(|&id| id >= num_partitions).unwrap_or(0);
        return Err(EngineError::InvalidArgument {
            name: "partitionIds",
            reason: format!(
                "row {row} names partition {}, but there are only {num_partitions}",
                ids[row]
            ),
        });
    }
    for (p, count) in counts.iter_mut().enumerate() {
        *count = lanes[p] + lanes[n + p] + lanes[2 * n + p] + lanes[3 * n + p];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn groups_rows_stably() {
        let out = shuffle(&[2, 0, 2, 1, 0], 3).unwrap();
        assert_eq!(out.permutation, vec![1, 4, 3, 0, 2]);
        assert_eq!(out.bounds, vec![0, 2, 3, 5]);
        assert_eq!(shuffle(&[], 2).unwrap().bounds, vec![0, 0, 0]);
    }

    #[test]
    fn rejects_ids_out_of_range() {
        let err = shuffle(&[0, 1, 0, 0, 0, 5], 3).unwrap_err();
        assert!(err.to_string().contains("row 5"), "{err}");
        assert!(shuffle(&[0], 0).is_err());
    }

    proptest! {
        #[test]
        fn matches_a_stable_sort(ids in proptest::collection::vec(0u32..40, 0..500), extra in 0u32..5) {
            let n = 40 + extra;
            let out = shuffle(&ids, n).unwrap();
            let mut expected: Vec<u32> = (0..ids.len() as u32).collect();
            expected.sort_by_key(|&row| ids[row as usize]);
            prop_assert_eq!(&out.permutation, &expected);
            for p in 0..n as usize {
                for &row in &out.permutation[out.bounds[p] as usize..out.bounds[p + 1] as usize] {
                    prop_assert_eq!(ids[row as usize] as usize, p);
                }
            }
        }
    }
}
