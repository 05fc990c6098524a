//! `cargo bench -p sluice-engine`: the kernels on generated data, without N-API, in ns/row.
//! `npm run bench` compares them with the binding and JavaScript side by side.

use std::hint::black_box;
use std::time::Instant;

use sluice_engine::agg::AggOp;
use sluice_engine::columns::KeyColumn;
use sluice_engine::parse::split_words;
use sluice_engine::reduce::{reduce_by_key_bytes, reduce_by_key_i64};
use sluice_engine::shuffle::shuffle;
use sluice_engine::window::{KeyKind, WindowAggregator};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn median_ns_per_row(rows: usize, rounds: usize, mut run: impl FnMut()) -> (f64, f64, f64) {
    run();
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_nanos() as f64 / rows as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    (samples[rounds / 2], samples[0], samples[rounds - 1])
}

fn report(name: &str, (median, min, max): (f64, f64, f64)) {
    println!("{name:<48} {median:>8.2} ns/row  (min {min:.2}, max {max:.2})");
}

fn main() {
    let rows = 1_000_000;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for distinct in [1_000u64, 100_000, 1_000_000] {
        let ints: Vec<i64> = (0..rows).map(|_| (rng.next() % distinct) as i64).collect();
        let values: Vec<f64> = (0..rows).map(|_| (rng.next() % 1000) as f64).collect();
        let mut blob = Vec::new();
        let mut offsets = vec![0u32];
        for key in &ints {
            blob.extend_from_slice(format!("key-{key}").as_bytes());
            offsets.push(blob.len() as u32);
        }
        report(
            &format!("reduceByKey sum, i64 keys, {distinct} distinct"),
            median_ns_per_row(rows, 5, || {
                black_box(reduce_by_key_i64(&ints, &values, AggOp::Sum).unwrap());
            }),
        );
        report(
            &format!("reduceByKey sum, UTF-8 keys, {distinct} distinct"),
            median_ns_per_row(rows, 5, || {
                let column = KeyColumn::new(&blob, &offsets).unwrap();
                black_box(reduce_by_key_bytes(column, &values, AggOp::Sum).unwrap());
            }),
        );
    }
    for partitions in [2u32, 16, 256] {
        let ids: Vec<u32> = (0..4 * rows)
            .map(|_| (rng.next() % u64::from(partitions)) as u32)
            .collect();
        report(
            &format!("shuffle into {partitions} partitions"),
            median_ns_per_row(ids.len(), 5, || {
                black_box(shuffle(&ids, partitions).unwrap());
            }),
        );
    }
    let text: Vec<u8> = (0..rows / 10)
        .flat_map(|_| {
            format!(
                "w{} w{} w{} w{}\n",
                rng.next() % 1000,
                rng.next() % 1000,
                rng.next() % 50,
                rng.next() % 7
            )
            .into_bytes()
        })
        .collect();
    let text_offsets = [0u32, text.len() as u32];
    report(
        "splitWords (4 words per line)",
        median_ns_per_row(rows / 10 * 4, 5, || {
            black_box(split_words(KeyColumn::new(&text, &text_offsets).unwrap()));
        }),
    );
    let keys: Vec<i64> = (0..rows).map(|_| (rng.next() % 100_000) as i64).collect();
    let values = vec![1.0; rows];
    for slide in [1000u64, 100, 10] {
        let per_batch = 100 * slide as usize;
        report(
            &format!("window sum 30 s / {slide} ms slide, add+evict+emit"),
            median_ns_per_row(rows, 3, || {
                let mut agg =
                    WindowAggregator::new(AggOp::Sum, 30_000, slide, KeyKind::I64).unwrap();
                for (b, chunk) in keys
                    .chunks(per_batch)
                    .zip(values.chunks(per_batch))
                    .enumerate()
                {
                    let t = (b as u64 + 1) * slide;
                    agg.add_i64(t, chunk.0, chunk.1).unwrap();
                    if t + slide > 30_000 {
                        agg.evict(t + slide - 30_000).unwrap();
                    }
                }
                black_box(
                    agg.emit_i64(keys.len() as u64 / per_batch as u64 * slide)
                        .unwrap(),
                );
            }),
        );
    }
}
