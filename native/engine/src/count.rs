//! Fused parse + count: a byte parser's rows counted as they are found, without building the
//! parsed column. The result is exactly `reduce_by_key_bytes(parser(values), [], Count)` over
//! the parser's valid rows (a CSV record without the field, or a JSON value without the string
//! member, gives no row): the distinct rows in first-seen order with their counts.
//!
//! Rows are interned in the reduce kernels' [`BytesDictionary`] as they are found, with a
//! count per id. (A table of 16-byte slots holding short keys whole and the count in the slot
//! measured no faster on Zipf words.)

use crate::columns::KeyColumn;
use crate::dictionary::BytesDictionary;
use crate::parse::{self, is_word_space};
use crate::partition::place_rows_bytes;
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

/// Counts of distinct byte keys, in first-seen order: the reduce kernels' dictionary plus a
/// count per id.
#[derive(Debug, Default)]
pub struct ByteCounter {
    dictionary: BytesDictionary,
    counts: Vec<u32>,
}

impl ByteCounter {
    /// An empty counter with room for `capacity` distinct keys.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            dictionary: BytesDictionary::with_capacity(capacity),
            counts: Vec::with_capacity(capacity),
        }
    }

    /// Number of distinct keys counted.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Counts one occurrence of `key`. A group's count never exceeds the rows of a column with
    /// u32 offsets, so it fits a u32.
    #[inline]
    pub fn add(&mut self, key: &[u8]) {
        let (id, is_new) = self.dictionary.intern(key);
        if is_new {
            self.counts.push(1);
        } else {
            self.counts[id as usize] += 1;
        }
    }

    /// The distinct keys in first-seen order with their counts, placed into `num_partitions`
    /// partitions by MurmurHash3 % `num_partitions` (1: one partition holding every group).
    pub fn finish_placed(self, num_partitions: u32) -> Result<Vec<BytesGroups>, EngineError> {
        if num_partitions == 0 {
            return Err(EngineError::InvalidArgument {
                name: "numPartitions",
                reason: "must be at least 1".into(),
            });
        }
        let groups = self.finish();
        if num_partitions == 1 {
            return Ok(vec![groups]);
        }
        Ok(place_groups(&groups, num_partitions))
    }

    /// The distinct keys in first-seen order with their counts.
    pub fn finish(self) -> BytesGroups {
        let (keys, offsets) = self.dictionary.into_columns();
        BytesGroups {
            keys,
            offsets,
            values: self.counts.into_iter().map(f64::from).collect(),
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
    count_into(&mut counter, values, parser)?;
    Ok(counter.finish())
}

/// Adds the rows `parser` finds in `values` to `counter`: counting a column piece after piece
/// into one counter gives the groups of counting the pieces' rows as one column (first-seen
/// order across the pieces, counts summed).
pub fn count_into(
    counter: &mut ByteCounter,
    values: KeyColumn<'_>,
    parser: TextParser<'_>,
) -> Result<(), EngineError> {
    parser.check()?;
    match parser {
        TextParser::Lines => {
            for value in values.iter() {
                parse::for_each_line(value, |line| counter.add(line));
            }
        }
        TextParser::Words => count_words(values, counter),
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
    Ok(())
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
    let keys = KeyColumn::new(&groups.keys, &groups.offsets).expect("groups' own offsets");
    place_rows_bytes(keys, &groups.values, num_partitions).expect("one value per group")
}

/// Counts the words of every value (maximal runs of non-whitespace bytes, as `split_words`
/// finds them). Written with `split`, which compiles to a tighter loop than indexing.
fn count_words(values: KeyColumn<'_>, counter: &mut ByteCounter) {
    for value in values.iter() {
        for word in value.split(|&b| is_word_space(b)) {
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
    fn counts_pieces_into_one_counter_as_one_column() {
        let rows: Vec<String> = vec!["b a".into(), "c b".into(), "".into(), "a d b".into()];
        let (blob, offsets) = column(&rows);
        let whole = count_parsed(KeyColumn::new(&blob, &offsets).unwrap(), TextParser::Words);
        let mut counter = ByteCounter::with_capacity(0);
        for piece in rows.chunks(3) {
            let (blob, offsets) = column(piece);
            let piece = KeyColumn::new(&blob, &offsets).unwrap();
            count_into(&mut counter, piece, TextParser::Words).unwrap();
        }
        assert_eq!(counter.finish_placed(1).unwrap(), vec![whole.unwrap()]);
        assert!(ByteCounter::default().finish_placed(0).is_err());
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
                // The rows counted piece after piece into one counter: the same groups.
                let mut counter = ByteCounter::with_capacity(0);
                for piece in rows.chunks(n as usize) {
                    let (blob, offsets) = column(piece);
                    count_into(&mut counter, KeyColumn::new(&blob, &offsets).unwrap(), parser).unwrap();
                }
                prop_assert_eq!(&counter.finish(), &expected);
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
