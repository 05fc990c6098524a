//! `cargo run --release -p sluice-engine --example word_count`: the word count of one batch
//! (100k lines of about 100 bytes, Zipf(1.2) words from a 100k-word vocabulary) three ways,
//! in ns per word: the parser's column then reduceByKey count; the fused count; a `HashMap`
//! keyed by slices of the input (the shape of the hand-written Rust word count of the peers
//! benchmark). `SLUICE_BENCH_CPU_TIME=1` times
//! the thread's CPU time instead of the wall clock; an argument keeps the contenders whose
//! name contains it.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use rustc_hash::FxBuildHasher;
use sluice_engine::agg::AggOp;
use sluice_engine::columns::KeyColumn;
use sluice_engine::count::{count_parsed, TextParser};
use sluice_engine::parse::split_words;
use sluice_engine::reduce::{reduce_by_key_bytes, BytesGroups};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn lines(records: usize, vocabulary: usize) -> (Vec<u8>, Vec<u32>, usize) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let words: Vec<Vec<u8>> = (0..vocabulary)
        .map(|_| {
            let len = 3 + rng.next() % 8;
            (0..len).map(|_| b'a' + (rng.next() % 26) as u8).collect()
        })
        .collect();
    let mut cdf = Vec::with_capacity(vocabulary);
    let mut total = 0.0;
    for r in 0..vocabulary {
        total += ((r + 1) as f64).powf(-1.2);
        cdf.push(total);
    }
    let mut blob = Vec::new();
    let mut offsets = vec![0u32];
    let mut count = 0;
    for _ in 0..records {
        let start = blob.len();
        loop {
            let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
            let id = cdf.partition_point(|&c| c < u).min(vocabulary - 1);
            if blob.len() > start {
                blob.push(b' ');
            }
            blob.extend_from_slice(&words[id]);
            count += 1;
            if blob.len() - start >= 100 {
                break;
            }
        }
        offsets.push(blob.len() as u32);
    }
    (blob, offsets, count)
}

/// Nanoseconds this thread has spent on a CPU (Linux: the first field of schedstat).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn slice_map(values: KeyColumn<'_>) -> BytesGroups {
    let mut map: HashMap<&[u8], u32, FxBuildHasher> = HashMap::default();
    let mut order: Vec<&[u8]> = Vec::new();
    for value in values.iter() {
        for word in value
            .split(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
            .filter(|w| !w.is_empty())
        {
            match map.get_mut(word) {
                Some(count) => *count += 1,
                None => {
                    map.insert(word, 1);
                    order.push(word);
                }
            }
        }
    }
    let mut keys = Vec::new();
    let mut offsets = vec![0u32];
    let mut counts = Vec::with_capacity(order.len());
    for word in order {
        keys.extend_from_slice(word);
        offsets.push(keys.len() as u32);
        counts.push(f64::from(map[word]));
    }
    BytesGroups {
        keys,
        offsets,
        values: counts,
    }
}

fn main() {
    let (blob, offsets, words) = lines(100_000, 100_000);
    let values = KeyColumn::new(&blob, &offsets).unwrap();
    let reference = reduce_by_key_bytes(
        KeyColumn::new(&split_words(values).keys, &split_words(values).offsets).unwrap(),
        &[],
        AggOp::Count,
    )
    .unwrap();
    println!("{words} words, {} distinct", reference.values.len());
    type Run<'a> = Box<dyn FnMut() -> usize + 'a>;
    let mut contenders: Vec<(&str, Run<'_>)> = vec![
        (
            "splitWords + reduceByKey count",
            Box::new(|| {
                let parsed = split_words(values);
                let column = KeyColumn::new(&parsed.keys, &parsed.offsets).unwrap();
                reduce_by_key_bytes(column, &[], AggOp::Count)
                    .unwrap()
                    .values
                    .len()
            }),
        ),
        (
            "fused count_parsed",
            Box::new(|| {
                count_parsed(values, TextParser::Words)
                    .unwrap()
                    .values
                    .len()
            }),
        ),
        (
            "HashMap<&[u8], u32> + first-seen order",
            Box::new(|| slice_map(values).values.len()),
        ),
    ];
    let only = std::env::args().nth(1);
    if let Some(only) = &only {
        contenders.retain(|(name, _)| name.contains(only.as_str()));
    }
    assert_eq!(count_parsed(values, TextParser::Words).unwrap(), reference);
    assert_eq!(slice_map(values), reference);
    // On a shared machine, time on the CPU (this thread's, from /proc) says more than the
    // wall clock: SLUICE_BENCH_CPU_TIME=1.
    let use_cpu_time = std::env::var_os("SLUICE_BENCH_CPU_TIME").is_some();
    let rounds = 9;
    let mut samples = vec![Vec::new(); contenders.len()];
    for round in 0..rounds {
        for k in 0..contenders.len() {
            let i = (k + round) % contenders.len();
            let start = Instant::now();
            let cpu = cpu_ns();
            black_box((contenders[i].1)());
            let ns = if use_cpu_time {
                (cpu_ns() - cpu) as f64
            } else {
                start.elapsed().as_nanos() as f64
            };
            samples[i].push(ns / words as f64);
        }
    }
    for ((name, _), own) in contenders.iter().zip(&mut samples) {
        own.sort_by(f64::total_cmp);
        println!(
            "{name:<40} median {:>6.1} ns/word, min {:>6.1}",
            own[rounds / 2],
            own[0]
        );
    }
}
