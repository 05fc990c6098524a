//! Fused parse + count: a byte parser's rows counted as they are found, without building the
//! parsed column. The result is exactly `reduce_by_key_bytes(parser(values), [], Count)` over
//! the parser's valid rows (a CSV record without the field, or a JSON value without the string
//! member, gives no row): the distinct rows in first-seen order with their counts.
//!
//! The counts live in their own table ([`ByteCounter`]) rather than in a [`BytesDictionary`]
//! plus a counts vector: each slot (16 bytes) holds a signature of the key (the whole key when it has up to 7 bytes), its position in
//! the counter's own copy of the keys and its count, so counting a key of up to 8 bytes (most
//! words) touches one slot and nothing else — no second lookup of the count by id, no read of
//! the key blob to confirm a match.
//!
//! [`BytesDictionary`]: crate::dictionary::BytesDictionary

use hashbrown::HashTable;

use crate::columns::KeyColumn;
use crate::dictionary::key_hash_bytes;
use crate::hash::murmur3_32;
use crate::parse::{self, WHITESPACE};
use crate::partition::partition_of;
use crate::reduce::BytesGroups;
use crate::EngineError;

/// A parser whose rows are UTF-8 text (every parser but `jsonNumberField`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextParser<'a> {
    /// `split_lines`.
    Lines,
    /// `split_words`.
    Words,
    /// `csv_column(index, delimiter)`; invalid rows (too few fields) are not counted.
    CsvColumn { index: u32, delimiter: u8 },
    /// `json_string_field(field)`; invalid rows are not counted.
    JsonStringField { field: &'a [u8] },
}

impl TextParser<'_> {
    /// Checks the parser's arguments as the parser itself does (the CSV delimiter).
    pub fn check(&self) -> Result<(), EngineError> {
        if let TextParser::CsvColumn { delimiter, .. } = *self {
            parse::check_csv_delimiter(delimiter)?;
        }
        Ok(())
    }
}

/// One distinct key: its [`signature`] (the whole key when it has up to 7 bytes), its id
/// (first-seen order, with [`LONG`] set for keys of 8 bytes or more) and its count so far.
#[derive(Debug, Clone, Copy)]
struct CountSlot {
    signature: u64,
    tagged_id: u32,
    count: u32,
}

/// Marks the id of a key of 8 bytes or more, whose signature holds only its first 8 bytes.
/// Ids stay below 2^31: that many distinct keys do not fit in a blob with u32 offsets.
const LONG: u32 = 1 << 31;

/// Counts of distinct byte keys, in first-seen order.
#[derive(Debug, Default)]
pub struct ByteCounter {
    table: HashTable<CountSlot>,
    blob: Vec<u8>,
    offsets: Vec<u32>,
}

#[inline(always)]
fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

#[inline(always)]
fn read_u32(bytes: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes(
        bytes[at..at + 4].try_into().expect("4 bytes"),
    ))
}

/// A key's signature: for keys of up to 7 bytes, the bytes zero-padded with the length in
/// the top byte (so it tells every short key apart), read without copying into a buffer (two
/// overlapping 4-byte reads, or the first, middle and last byte, as rustc-hash reads short
/// keys: a copy costs a `memcpy` call); for longer keys their first 8 bytes.
#[inline(always)]
fn signature(key: &[u8]) -> u64 {
    let len = key.len();
    let padded = if len >= 8 {
        return read_u64(key, 0);
    } else if len >= 4 {
        read_u32(key, 0) | (read_u32(key, len - 4) << ((len - 4) * 8))
    } else if len > 0 {
        u64::from(key[0])
            | (u64::from(key[len / 2]) << ((len / 2) * 8))
            | (u64::from(key[len - 1]) << ((len - 1) * 8))
    } else {
        0
    };
    padded | ((len as u64) << 56)
}

impl ByteCounter {
    /// An empty counter with room for `capacity` distinct keys.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut offsets = Vec::with_capacity(capacity + 1);
        offsets.push(0);
        Self {
            table: HashTable::with_capacity(capacity),
            blob: Vec::new(),
            offsets,
        }
    }

    /// Number of distinct keys counted.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counts one occurrence of `key`.
    #[inline]
    pub fn add(&mut self, key: &[u8]) {
        let sig = signature(key);
        let hash = key_hash_bytes(key);
        let Self {
            table,
            blob,
            offsets,
        } = self;
        let long = key.len() >= 8;
        let key_of = |tagged_id: u32| {
            let id = (tagged_id & !LONG) as usize;
            &blob[offsets[id] as usize..offsets[id + 1] as usize]
        };
        let found = table.find_mut(hash, |slot| {
            slot.signature == sig
                && if long {
                    slot.tagged_id & LONG != 0 && key_of(slot.tagged_id)[8..] == key[8..]
                } else {
                    slot.tagged_id & LONG == 0
                }
        });
        if let Some(slot) = found {
            slot.count += 1;
            return;
        }
        let id = (offsets.len() - 1) as u32;
        blob.extend_from_slice(key);
        offsets.push(blob.len() as u32);
        let slot = CountSlot {
            signature: sig,
            tagged_id: if long { id | LONG } else { id },
            count: 1,
        };
        table.insert_unique(hash, slot, |other| {
            let id = (other.tagged_id & !LONG) as usize;
            let bytes = &blob[offsets[id] as usize..offsets[id + 1] as usize];
            key_hash_bytes(bytes)
        });
    }

    /// The distinct keys in first-seen order with their counts.
    pub fn finish(self) -> BytesGroups {
        let mut values = vec![0.0; self.len()];
        for slot in self.table.iter() {
            values[(slot.tagged_id & !LONG) as usize] = f64::from(slot.count);
        }
        BytesGroups {
            keys: self.blob,
            offsets: self.offsets,
            values,
        }
    }
}

/// Counts each distinct row `parser` finds in `values`: the same groups, in the same order,
/// as running the parser, keeping its valid rows and reducing them with `count`.
pub fn count_parsed(
    values: KeyColumn<'_>,
    parser: TextParser<'_>,
) -> Result<BytesGroups, EngineError> {
    parser.check()?;
    let mut counter = ByteCounter::with_capacity(estimate_distinct(&values));
    match parser {
        TextParser::Lines => {
            for value in values.iter() {
                parse::for_each_line(value, |line| counter.add(line));
            }
        }
        TextParser::Words => count_words(values, &mut counter),
        TextParser::CsvColumn { index, delimiter } => {
            let mut scratch = Vec::new();
            for value in values.iter() {
                scratch.clear();
                if parse::csv_field(
                    parse::strip_record_end(value),
                    index,
                    delimiter,
                    &mut scratch,
                ) {
                    counter.add(&scratch);
                }
            }
        }
        TextParser::JsonStringField { field } => {
            let mut scratch = Vec::new();
            let mut name = Vec::new();
            for value in values.iter() {
                scratch.clear();
                if parse::json_string_member(value, field, &mut name, &mut scratch) {
                    counter.add(&scratch);
                }
            }
        }
    }
    Ok(counter.finish())
}

/// [`count_parsed`], its groups then placed by key: partition `p` of the result holds the
/// groups whose key's MurmurHash3 (seed 0) `% num_partitions` is `p`, in first-seen order —
/// what `hash_partition_bytes` and a stable `shuffle` of the groups give.
pub fn count_parsed_partitioned(
    values: KeyColumn<'_>,
    parser: TextParser<'_>,
    num_partitions: u32,
) -> Result<Vec<BytesGroups>, EngineError> {
    if num_partitions == 0 {
        return Err(EngineError::InvalidArgument {
            name: "numPartitions",
            reason: "must be at least 1".into(),
        });
    }
    let groups = count_parsed(values, parser)?;
    if num_partitions == 1 {
        return Ok(vec![groups]);
    }
    Ok(place_groups(&groups, num_partitions))
}

/// Splits groups into partitions by the MurmurHash3 of their keys, keeping their order.
pub fn place_groups(groups: &BytesGroups, num_partitions: u32) -> Vec<BytesGroups> {
    let n = num_partitions as usize;
    let rows = groups.values.len();
    let mut partition_of_row = Vec::with_capacity(rows);
    let mut rows_in = vec![0usize; n];
    let mut bytes_in = vec![0usize; n];
    for row in 0..rows {
        let key = &groups.keys[groups.offsets[row] as usize..groups.offsets[row + 1] as usize];
        let p = partition_of(murmur3_32(key, 0), num_partitions) as usize;
        partition_of_row.push(p);
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
                values: Vec::with_capacity(rows_in[p]),
            }
        })
        .collect();
    for (row, &p) in partition_of_row.iter().enumerate() {
        let key = &groups.keys[groups.offsets[row] as usize..groups.offsets[row + 1] as usize];
        let part = &mut out[p];
        part.keys.extend_from_slice(key);
        part.offsets.push(part.keys.len() as u32);
        part.values.push(groups.values[row]);
    }
    out
}

/// Counts the words of every value (maximal runs of non-whitespace bytes, as `split_words`
/// finds them). Written with `split`, which compiles to a tighter loop than indexing.
fn count_words(values: KeyColumn<'_>, counter: &mut ByteCounter) {
    for value in values.iter() {
        for word in value.split(|&b| WHITESPACE[b as usize]) {
            if !word.is_empty() {
                counter.add(word);
            }
        }
    }
}

/// A first guess at the number of distinct rows, as `reduce_by_key_bytes` makes it.
fn estimate_distinct(values: &KeyColumn<'_>) -> usize {
    values.len().min(1 << 12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::AggOp;
    use crate::partition::hash_partition_bytes;
    use crate::reduce::reduce_by_key_bytes;
    use crate::shuffle::shuffle;
    use proptest::prelude::*;

    fn column(values: &[String]) -> (Vec<u8>, Vec<u32>) {
        let mut blob = Vec::new();
        let mut offsets = vec![0u32];
        for v in values {
            blob.extend_from_slice(v.as_bytes());
            offsets.push(blob.len() as u32);
        }
        (blob, offsets)
    }

    /// The reference: the parser's column, its valid rows, then reduceByKey count.
    fn parse_then_count(values: KeyColumn<'_>, parser: TextParser<'_>) -> BytesGroups {
        let parsed = match parser {
            TextParser::Lines => parse::split_lines(values),
            TextParser::Words => parse::split_words(values),
            TextParser::CsvColumn { index, delimiter } => {
                parse::csv_column(values, index, delimiter).unwrap()
            }
            TextParser::JsonStringField { field } => parse::json_string_field(values, field),
        };
        let mut blob = Vec::new();
        let mut offsets = vec![0u32];
        for row in 0..parsed.offsets.len() - 1 {
            if parsed.valid.is_empty() || parsed.valid[row] == 1 {
                blob.extend_from_slice(
                    &parsed.keys[parsed.offsets[row] as usize..parsed.offsets[row + 1] as usize],
                );
                offsets.push(blob.len() as u32);
            }
        }
        let column = KeyColumn::new(&blob, &offsets).unwrap();
        reduce_by_key_bytes(column, &[], AggOp::Count).unwrap()
    }

    fn parsers(field: &[u8]) -> [TextParser<'_>; 5] {
        [
            TextParser::Lines,
            TextParser::Words,
            TextParser::CsvColumn {
                index: 1,
                delimiter: b',',
            },
            TextParser::CsvColumn {
                index: 0,
                delimiter: b';',
            },
            TextParser::JsonStringField { field },
        ]
    }

    #[test]
    fn counts_words_in_first_seen_order() {
        let (blob, offsets) = column(&["b a b".into(), "".into(), " c\ta\n".into()]);
        let groups =
            count_parsed(KeyColumn::new(&blob, &offsets).unwrap(), TextParser::Words).unwrap();
        assert_eq!(groups.keys, b"bac");
        assert_eq!(groups.offsets, vec![0, 1, 2, 3]);
        assert_eq!(groups.values, vec![2.0, 2.0, 1.0]);
    }

    #[test]
    fn skips_invalid_rows_and_checks_the_delimiter() {
        let (blob, offsets) = column(&[
            r#"{"s": "x"}"#.into(),
            r#"{"s": 1}"#.into(),
            r#"{"s": "x"}"#.into(),
        ]);
        let values = KeyColumn::new(&blob, &offsets).unwrap();
        let groups = count_parsed(values, TextParser::JsonStringField { field: b"s" }).unwrap();
        assert_eq!(
            (groups.keys.as_slice(), groups.values),
            (&b"x"[..], vec![2.0])
        );
        let bad = count_parsed(
            values,
            TextParser::CsvColumn {
                index: 0,
                delimiter: b'"',
            },
        );
        assert_eq!(bad.unwrap_err().code(), "SLUICE_NATIVE_INVALID_ARGUMENT");
        assert!(count_parsed_partitioned(values, TextParser::Lines, 0).is_err());
    }

    #[test]
    fn counts_long_keys_sharing_a_prefix() {
        let rows: Vec<String> = (0..200)
            .map(|i| format!("prefix-0123456789-{}", i % 37))
            .collect();
        let (blob, offsets) = column(&rows);
        let values = KeyColumn::new(&blob, &offsets).unwrap();
        let fused = count_parsed(values, TextParser::Lines).unwrap();
        assert_eq!(fused, parse_then_count(values, TextParser::Lines));
        assert_eq!(fused.values.len(), 37);
    }

    fn value_strategy() -> impl Strategy<Value = String> {
        // Short and long words, separators of every parser, quotes, JSON bits, non-ASCII.
        let atom = prop_oneof![
            Just("a".to_string()),
            Just("bb".to_string()),
            Just("abcdefgh".to_string()),
            Just("abcdefghi".to_string()),
            Just("abcdefghijklmnopq".to_string()),
            Just(" ".to_string()),
            Just("\t".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just(",".to_string()),
            Just(";".to_string()),
            Just("\"".to_string()),
            Just("é".to_string()),
            Just("\u{a0}".to_string()),
            Just(r#"{"s": "v"}"#.to_string()),
            Just(r#"{"s": "w\u00e9", "t": 1}"#.to_string()),
            Just(r#"{"t": "s", "s": 2}"#.to_string()),
        ];
        proptest::collection::vec(atom, 0..8).prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn equals_parse_then_count(rows in proptest::collection::vec(value_strategy(), 0..30), n in 1u32..5) {
            let (blob, offsets) = column(&rows);
            let values = KeyColumn::new(&blob, &offsets).unwrap();
            for parser in parsers(b"s") {
                let expected = parse_then_count(values, parser);
                prop_assert_eq!(&count_parsed(values, parser).unwrap(), &expected);
                // Placement: hash partitioning plus a stable shuffle of the groups.
                let placed = count_parsed_partitioned(values, parser, n).unwrap();
                let groups = KeyColumn::new(&expected.keys, &expected.offsets).unwrap();
                let mut ids = vec![0u32; groups.len()];
                hash_partition_bytes(groups, n, &mut ids).unwrap();
                let shuffled = shuffle(&ids, n).unwrap();
                prop_assert_eq!(placed.len(), n as usize);
                for (p, part) in placed.iter().enumerate() {
                    let rows = &shuffled.permutation[shuffled.bounds[p] as usize..shuffled.bounds[p + 1] as usize];
                    let keys: Vec<&[u8]> = rows.iter().map(|&r| groups.get(r as usize)).collect();
                    let part_keys: Vec<&[u8]> = KeyColumn::new(&part.keys, &part.offsets).unwrap().iter().collect();
                    prop_assert_eq!(part_keys, keys);
                    let counts: Vec<f64> = rows.iter().map(|&r| expected.values[r as usize]).collect();
                    prop_assert_eq!(&part.values, &counts);
                }
            }
        }
    }
}
