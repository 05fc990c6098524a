//! The limit contender of `npm run bench`: the engine's kernels called straight from Rust,
//! with no N-API in between, on the same input files the JavaScript contenders read.
//!
//! Usage (prints one JSON line; reduce and shuffle report the median of three runs after a
//! warm-up, the window loop one pass):
//!   bench_limit reduce-utf8 <dir> <op>
//!   bench_limit reduce-i64 <dir> <op>
//!   bench_limit shuffle <dir> <partitions>
//!   bench_limit window <dir> <window_ms> <slide_ms> <batch_rows> <fill_batches> <measure_batches> <emit 0|1>
//!
//! `<dir>` holds little-endian arrays: keys.bin (UTF-8 blob), offsets.bin (u32), ints.bin
//! (i64), values.bin (f64), ids.bin (u32 partition ids).

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use sluice_engine::agg::AggOp;
use sluice_engine::columns::KeyColumn;
use sluice_engine::reduce::{reduce_by_key_bytes, reduce_by_key_i64};
use sluice_engine::shuffle::shuffle;
use sluice_engine::window::{KeyKind, WindowAggregator};

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
}

fn words<T: Copy, const N: usize>(bytes: &[u8], from: fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|c| from(c.try_into().expect("chunk of N bytes")))
        .collect()
}

/// Order-sensitive checksum of u32s, the same FNV-style fold the JavaScript side computes.
fn fold_u32(values: &[u32]) -> u32 {
    values
        .iter()
        .fold(0x811c_9dc5u32, |h, &v| (h ^ v).wrapping_mul(16_777_619))
}

fn sum_bits(values: &[f64]) -> String {
    format!(
        "{:016x}",
        values.iter().fold(0.0f64, |a, &b| a + b).to_bits()
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let command = args.get(1).map(String::as_str).unwrap_or("");
    let dir = Path::new(args.get(2).map(String::as_str).unwrap_or("."));
    // One warm-up run, then the median of three timed runs: the steady state the JavaScript
    // contenders reach by running in one long-lived process.
    let timed = |mut run: Box<dyn FnMut() -> String>| -> (f64, String) {
        let checksum = run();
        let mut samples: Vec<f64> = (0..3)
            .map(|_| {
                let start = Instant::now();
                black_box(run());
                start.elapsed().as_nanos() as f64
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        (samples[1], checksum)
    };
    let (ns, rows, checksum, extra) = match command {
        "reduce-utf8" | "reduce-i64" => {
            let op = AggOp::parse(&args[3]).expect("op");
            let values: Vec<f64> = words(&read(dir, "values.bin"), f64::from_le_bytes);
            let rows = values.len();
            let (ns, checksum) = if command == "reduce-utf8" {
                let blob = read(dir, "keys.bin");
                let offsets: Vec<u32> = words(&read(dir, "offsets.bin"), u32::from_le_bytes);
                timed(Box::new(move || {
                    let column = KeyColumn::new(&blob, &offsets).expect("offsets");
                    let out = reduce_by_key_bytes(column, &values, op).expect("reduce");
                    format!("{}:{}", out.values.len(), sum_bits(black_box(&out.values)))
                }))
            } else {
                let ints: Vec<i64> = words(&read(dir, "ints.bin"), i64::from_le_bytes);
                timed(Box::new(move || {
                    let out = reduce_by_key_i64(&ints, &values, op).expect("reduce");
                    format!("{}:{}", out.values.len(), sum_bits(black_box(&out.values)))
                }))
            };
            (ns, rows, checksum, String::new())
        }
        "shuffle" => {
            let partitions: u32 = args[3].parse().expect("partitions");
            let ids: Vec<u32> = words(&read(dir, "ids.bin"), u32::from_le_bytes);
            let rows = ids.len();
            let (ns, checksum) = timed(Box::new(move || {
                let out = shuffle(&ids, partitions).expect("shuffle");
                format!("{:08x}", fold_u32(black_box(&out.permutation)))
            }));
            (ns, rows, checksum, String::new())
        }
        "window" => {
            let num = |i: usize| -> u64 { args[i].parse().expect("number") };
            let (window_ms, slide_ms, batch_rows) = (num(3), num(4), num(5) as usize);
            let (fill, measure) = (num(6) as usize, num(7) as usize);
            let emit_every_slide = num(8) == 1;
            let blob = read(dir, "keys.bin");
            let offsets: Vec<u32> = words(&read(dir, "offsets.bin"), u32::from_le_bytes);
            let values: Vec<f64> = words(&read(dir, "values.bin"), f64::from_le_bytes);
            let total_rows = values.len();
            let mut agg = WindowAggregator::new(AggOp::Sum, window_ms, slide_ms, KeyKind::Utf8)
                .expect("window");
            let (mut update_ns, mut emit_ns, mut emitted) = (0f64, 0f64, 0usize);
            let (mut add_ns, mut advance_ns) = (0f64, 0f64);
            let mut checksum = 0f64;
            for b in 0..fill + measure {
                let t = (b as u64 + 1) * slide_ms;
                let from = (b * batch_rows) % total_rows;
                let rows = &offsets[from..=from + batch_rows];
                let base = rows[0];
                let rebased: Vec<u32> = rows.iter().map(|o| o - base).collect();
                let keys =
                    KeyColumn::new(&blob[base as usize..rows[batch_rows] as usize], &rebased)
                        .expect("batch");
                let batch_values = &values[from..from + batch_rows];
                let measured = b >= fill;
                let start = Instant::now();
                agg.add_bytes(t, keys, batch_values).expect("add");
                let added = start.elapsed().as_nanos() as f64;
                if measured || b + 1 == fill {
                    let start = Instant::now();
                    agg.advance(t).expect("advance");
                    let advanced = start.elapsed().as_nanos() as f64;
                    if measured {
                        update_ns += added + advanced;
                        add_ns += added;
                        advance_ns += advanced;
                    }
                    if measured && (emit_every_slide || b + 1 == fill + measure) {
                        let start = Instant::now();
                        let out = agg.emit_bytes(t).expect("emit");
                        emit_ns += start.elapsed().as_nanos() as f64;
                        emitted += out.values.len();
                        for value in &out.values {
                            checksum += value;
                        }
                    }
                }
                let start = Instant::now();
                if t + slide_ms > window_ms {
                    agg.evict(t + slide_ms - window_ms).expect("evict");
                }
                if measured {
                    update_ns += start.elapsed().as_nanos() as f64;
                }
            }
            let rows = measure * batch_rows;
            let extra = format!(
                ",\"emitNsPerRow\":{},\"emittedRows\":{emitted},\"addNsPerRow\":{},\"advanceNsPerRow\":{}",
                emit_ns / emitted.max(1) as f64,
                add_ns / rows as f64,
                advance_ns / rows as f64
            );
            (
                update_ns,
                rows,
                format!("{:016x}", checksum.to_bits()),
                extra,
            )
        }
        _ => {
            eprintln!("usage: bench_limit reduce-utf8|reduce-i64|shuffle|window <dir> ...");
            std::process::exit(2);
        }
    };
    println!(
        "{{\"ns\":{ns},\"rows\":{rows},\"nsPerRow\":{},\"checksum\":\"{checksum}\"{extra}}}",
        ns / rows.max(1) as f64
    );
}
