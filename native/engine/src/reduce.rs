//! reduceByKey: one output row per distinct key, in first-seen order.

use crate::agg::{check_values, js_max, js_min, AggOp};
use crate::columns::KeyColumn;
use crate::dictionary::{BytesDictionary, I64Dictionary};
use crate::EngineError;

/// Groups of byte keys: the distinct keys (blob + `groups + 1` offsets) and one value each.
#[derive(Debug, Clone, PartialEq)]
pub struct BytesGroups {
    pub keys: Vec<u8>,
    pub offsets: Vec<u32>,
    pub values: Vec<f64>,
}

/// Groups of integer keys: the distinct keys and one value each.
#[derive(Debug, Clone, PartialEq)]
pub struct I64Groups {
    pub keys: Vec<i64>,
    pub values: Vec<f64>,
}

/// Per-group accumulators, indexed by dictionary id.
struct Accumulators {
    op: AggOp,
    values: Vec<f64>,
    counts: Vec<u64>,
}

impl Accumulators {
    fn new(op: AggOp, capacity: usize) -> Self {
        Self {
            op,
            values: Vec::with_capacity(capacity),
            counts: if op == AggOp::Mean {
                Vec::with_capacity(capacity)
            } else {
                Vec::new()
            },
        }
    }

    /// Adds row value `value` to group `id`; `is_new` when the group starts with this row.
    #[inline(always)]
    fn add(&mut self, id: u32, is_new: bool, value: f64) {
        let id = id as usize;
        if is_new {
            let first = match self.op {
                AggOp::Sum | AggOp::Mean => 0.0 + value,
                AggOp::Count => 1.0,
                AggOp::Min | AggOp::Max => value,
            };
            self.values.push(first);
            if self.op == AggOp::Mean {
                self.counts.push(1);
            }
            return;
        }
        let slot = &mut self.values[id];
        match self.op {
            AggOp::Sum => *slot += value,
            AggOp::Count => *slot += 1.0,
            AggOp::Min => *slot = js_min(*slot, value),
            AggOp::Max => *slot = js_max(*slot, value),
            AggOp::Mean => {
                *slot += value;
                self.counts[id] += 1;
            }
        }
    }

    fn finish(mut self) -> Vec<f64> {
        if self.op == AggOp::Mean {
            for (sum, &count) in self.values.iter_mut().zip(&self.counts) {
                *sum /= count as f64;
            }
        }
        self.values
    }
}

/// Reduces `values` by byte key with `op`. For `count`, `values` may be empty.
pub fn reduce_by_key_bytes(
    keys: KeyColumn<'_>,
    values: &[f64],
    op: AggOp,
) -> Result<BytesGroups, EngineError> {
    check_values(op, keys.len(), values.len())?;
    let capacity = estimate_groups(keys.len());
    let mut dictionary = BytesDictionary::with_capacity(capacity);
    let mut acc = Accumulators::new(op, capacity);
    if op.reads_values() {
        for (key, &value) in keys.iter().zip(values) {
            let (id, is_new) = dictionary.intern(key);
            acc.add(id, is_new, value);
        }
    } else {
        for key in keys.iter() {
            let (id, is_new) = dictionary.intern(key);
            acc.add(id, is_new, 0.0);
        }
    }
    let (keys, offsets) = dictionary.into_columns();
    Ok(BytesGroups {
        keys,
        offsets,
        values: acc.finish(),
    })
}

/// Reduces `values` by 64-bit integer key with `op`. For `count`, `values` may be empty.
pub fn reduce_by_key_i64(
    keys: &[i64],
    values: &[f64],
    op: AggOp,
) -> Result<I64Groups, EngineError> {
    check_values(op, keys.len(), values.len())?;
    let capacity = estimate_groups(keys.len());
    let mut dictionary = I64Dictionary::with_capacity(capacity);
    let mut acc = Accumulators::new(op, capacity);
    if op.reads_values() {
        for (&key, &value) in keys.iter().zip(values) {
            let (id, is_new) = dictionary.intern(key);
            acc.add(id, is_new, value);
        }
    } else {
        for &key in keys {
            let (id, is_new) = dictionary.intern(key);
            acc.add(id, is_new, 0.0);
        }
    }
    Ok(I64Groups {
        keys: dictionary.into_keys(),
        values: acc.finish(),
    })
}

/// A first guess at the number of groups: small batches reserve for every row, large ones
/// start smaller and grow, so a batch with few keys does not pay for a huge table.
fn estimate_groups(rows: usize) -> usize {
    rows.min(1 << 12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn column<'a>(blob: &'a [u8], offsets: &'a [u32]) -> KeyColumn<'a> {
        KeyColumn::new(blob, offsets).unwrap()
    }

    #[test]
    fn sums_in_first_seen_order() {
        let groups =
            reduce_by_key_bytes(column(b"bab", &[0, 1, 2, 3]), &[1.0, 2.0, 3.0], AggOp::Sum)
                .unwrap();
        assert_eq!(groups.keys, b"ba");
        assert_eq!(groups.offsets, vec![0, 1, 2]);
        assert_eq!(groups.values, vec![4.0, 2.0]);
    }

    #[test]
    fn applies_every_op_to_i64_keys() {
        let keys = [7, -3, 7, 7];
        let values = [1.0, 5.0, -2.0, 4.0];
        let run = |op| reduce_by_key_i64(&keys, &values, op).unwrap();
        assert_eq!(run(AggOp::Sum).values, vec![3.0, 5.0]);
        assert_eq!(run(AggOp::Count).values, vec![3.0, 1.0]);
        assert_eq!(run(AggOp::Min).values, vec![-2.0, 5.0]);
        assert_eq!(run(AggOp::Max).values, vec![4.0, 5.0]);
        assert_eq!(run(AggOp::Mean).values, vec![1.0, 5.0]);
        assert_eq!(run(AggOp::Sum).keys, vec![7, -3]);
        let counted = reduce_by_key_i64(&keys, &[], AggOp::Count).unwrap();
        assert_eq!(counted.values, vec![3.0, 1.0]);
    }

    #[test]
    fn follows_the_nan_and_signed_zero_rules() {
        let keys = [1, 1, 2, 2, 3];
        let values = [-0.0, -0.0, 1.0, f64::NAN, -0.0];
        let sum = reduce_by_key_i64(&keys, &values, AggOp::Sum)
            .unwrap()
            .values;
        assert!(sum[0] == 0.0 && sum[0].is_sign_positive());
        assert!(sum[1].is_nan());
        let min = reduce_by_key_i64(&keys, &values, AggOp::Min)
            .unwrap()
            .values;
        assert!(min[0].is_sign_negative() && min[1].is_nan() && min[2].is_sign_negative());
    }

    #[test]
    fn rejects_mismatched_values() {
        let err = reduce_by_key_i64(&[1, 2], &[1.0], AggOp::Sum).unwrap_err();
        assert_eq!(err.code(), "SLUICE_NATIVE_INVALID_ARGUMENT");
        assert!(reduce_by_key_i64(&[1, 2], &[], AggOp::Count).is_ok());
    }

    proptest! {
        #[test]
        fn bytes_and_i64_keys_group_alike(keys in proptest::collection::vec(0i64..20, 0..300), seed in any::<u64>()) {
            let values: Vec<f64> = keys.iter().enumerate().map(|(i, &k)| ((i as u64 ^ seed) % 1000) as f64 - k as f64).collect();
            let mut blob = Vec::new();
            let mut offsets = vec![0u32];
            for key in &keys {
                blob.extend_from_slice(key.to_string().as_bytes());
                offsets.push(blob.len() as u32);
            }
            for op in AggOp::ALL {
                let by_int = reduce_by_key_i64(&keys, &values, op).unwrap();
                let by_bytes = reduce_by_key_bytes(column(&blob, &offsets), &values, op).unwrap();
                prop_assert_eq!(&by_int.values, &by_bytes.values);
                let names: Vec<String> = by_int.keys.iter().map(|k| k.to_string()).collect();
                prop_assert_eq!(names.concat().into_bytes(), by_bytes.keys.clone());
                // Oracle: a straightforward first-seen-order fold.
                let mut order: Vec<i64> = Vec::new();
                for &k in &keys { if !order.contains(&k) { order.push(k); } }
                prop_assert_eq!(&order, &by_int.keys);
                for (g, &k) in order.iter().enumerate() {
                    let rows: Vec<f64> = keys.iter().zip(&values).filter(|(&kk, _)| kk == k).map(|(_, &v)| v).collect();
                    let expected = match op {
                        AggOp::Sum => rows.iter().fold(0.0, |a, b| a + b),
                        AggOp::Count => rows.len() as f64,
                        AggOp::Min => rows.iter().copied().fold(f64::INFINITY, js_min),
                        AggOp::Max => rows.iter().copied().fold(f64::NEG_INFINITY, js_max),
                        AggOp::Mean => rows.iter().fold(0.0, |a, b| a + b) / rows.len() as f64,
                    };
                    prop_assert_eq!(by_int.values[g].to_bits(), expected.to_bits());
                }
            }
        }
    }
}
