//! The limit contender of `npm run bench -- --peers`: the same word counts, written by hand in
//! Rust with no framework around them, on the same input files as every other contender.
//!
//! Usage (one JSON line per batch on stdout, or one line for the socket run):
//!   peer-word-count batches <total> <window_batches> <file>...
//!   peer-word-count socket <host> <port> <expected_words>
//!
//! Batch `i` is file `i % files`; a window of 0 batches counts each batch alone, otherwise the
//! counts over the last `window_batches` batches (sliding by one batch, zero counts dropped).
//! Batches run on 2 threads: each counts half the lines, keys split into two shards by hash, and
//! each thread then owns one shard of the result (and of the window). The socket run reads and
//! counts on one thread, as a socket arrives in order.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rustc_hash::FxBuildHasher;

type Counts<K> = HashMap<K, u32, FxBuildHasher>;

/// The digest every contender computes: FNV-1a 64 of each word's bytes; the sums (mod 2^32) of
/// its high and low halves times the word's count; the number of words and of distinct words.
/// Sums make it independent of order and of how the words were cut into batches.
#[derive(Default, Clone, Copy)]
struct Digest {
    hi: u32,
    lo: u32,
    words: u64,
    distinct: u64,
}

impl Digest {
    fn add(&mut self, word: &[u8], count: u32) {
        if count == 0 {
            return;
        }
        let h = fnv1a64(word);
        self.hi = self.hi.wrapping_add(((h >> 32) as u32).wrapping_mul(count));
        self.lo = self.lo.wrapping_add((h as u32).wrapping_mul(count));
        self.words += u64::from(count);
        self.distinct += 1;
    }

    fn merge(&mut self, other: Digest) {
        self.hi = self.hi.wrapping_add(other.hi);
        self.lo = self.lo.wrapping_add(other.lo);
        self.words += other.words;
        self.distinct += other.distinct;
    }

    fn text(&self, with_distinct: bool) -> String {
        let distinct = if with_distinct {
            self.distinct.to_string()
        } else {
            "-".to_string()
        };
        format!(
            "{distinct} distinct, {} words, {:08x}{:08x}",
            self.words, self.hi, self.lo
        )
    }
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn words(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b' ' || b == b'\n')
        .filter(|w| !w.is_empty())
}

/// Counts the words of `text` into two maps, by shard (the low bit of the map's own hash).
fn count_sharded(text: &[u8]) -> [Counts<&[u8]>; 2] {
    let hasher = FxBuildHasher;
    let mut shards = [Counts::default(), Counts::default()];
    for word in words(text) {
        let shard = (hasher.hash_one(word) & 1) as usize;
        *shards[shard].entry(word).or_insert(0) += 1;
    }
    shards
}

/// Splits `text` in two at a line boundary near its middle.
fn halves(text: &[u8]) -> (&[u8], &[u8]) {
    let mut mid = text.len() / 2;
    while mid < text.len() && text[mid] != b'\n' {
        mid += 1;
    }
    text.split_at(mid)
}

/// One shard of a sliding window: the counts over the window and each batch's own counts,
/// kept so that they can be taken off when the batch leaves the window.
#[derive(Default)]
struct WindowShard {
    counts: Counts<Box<[u8]>>,
    batches: VecDeque<Vec<(Box<[u8]>, u32)>>,
}

impl WindowShard {
    fn slide(&mut self, batch: Vec<(Box<[u8]>, u32)>, window: usize) -> Digest {
        for (word, count) in &batch {
            *self.counts.entry(word.clone()).or_insert(0) += count;
        }
        self.batches.push_back(batch);
        if self.batches.len() > window {
            for (word, count) in self.batches.pop_front().unwrap_or_default() {
                if let Some(total) = self.counts.get_mut(&word) {
                    *total -= count;
                    if *total == 0 {
                        self.counts.remove(&word);
                    }
                }
            }
        }
        let mut digest = Digest::default();
        for (word, &count) in &self.counts {
            digest.add(word, count);
        }
        digest
    }
}

/// Merges one shard of the two halves' counts; gives the digest of the batch's counts, or of
/// the window's after sliding it.
fn merge_shard(
    (mut merged, other): (Counts<&[u8]>, Counts<&[u8]>),
    shard: &mut WindowShard,
    window: usize,
) -> Digest {
    for (word, count) in other {
        *merged.entry(word).or_insert(0) += count;
    }
    let mut digest = Digest::default();
    if window == 0 {
        for (word, count) in merged {
            digest.add(word, count);
        }
        return digest;
    }
    let owned = merged.into_iter().map(|(w, c)| (w.into(), c)).collect();
    shard.slide(owned, window)
}

fn run_batches(total: usize, window: usize, files: &[String]) {
    // Reading the files is not timed: the other contenders get their batches in memory too.
    let inputs: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_else(|e| panic!("cannot read {f}: {e}")))
        .collect();
    let mut shards = [WindowShard::default(), WindowShard::default()];
    for i in 0..total {
        let text = &inputs[i % inputs.len()];
        let start = Instant::now();
        let (left, right) = halves(text);
        let digest = std::thread::scope(|scope| {
            let other = scope.spawn(|| count_sharded(right));
            let mine = count_sharded(left);
            let theirs = other.join().expect("counting thread");
            // Each thread merges one shard of both halves (and slides its shard of the window).
            let mut parts = mine.into_iter().zip(theirs).zip(shards.iter_mut());
            let first = parts.next().expect("shard 0");
            let second = parts.next().expect("shard 1");
            let other = scope.spawn(move || merge_shard(second.0, second.1, window));
            let mut digest = merge_shard(first.0, first.1, window);
            digest.merge(other.join().expect("merging thread"));
            digest
        });
        let ms = start.elapsed().as_secs_f64() * 1e3;
        println!(
            "{{\"batch\":{i},\"ms\":{ms},\"digest\":\"{}\"}}",
            digest.text(true)
        );
    }
}

fn run_socket(host: &str, port: &str, expected: u64) {
    let stream = TcpStream::connect(format!("{host}:{port}")).expect("connect");
    let mut reader = BufReader::with_capacity(1 << 20, stream);
    let mut counts: Counts<Vec<u8>> = Counts::default();
    let mut line = Vec::with_capacity(256);
    let mut seen = 0u64;
    while seen < expected {
        line.clear();
        if reader.read_until(b'\n', &mut line).expect("read") == 0 {
            break;
        }
        for word in words(&line) {
            seen += 1;
            match counts.get_mut(word) {
                Some(count) => *count += 1,
                None => {
                    counts.insert(word.to_vec(), 1);
                }
            }
        }
    }
    let end_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
        * 1e3;
    let mut digest = Digest::default();
    for (word, &count) in &counts {
        digest.add(word, count);
    }
    println!(
        "{{\"endMs\":{end_ms},\"digest\":\"{}\"}}",
        digest.text(false)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match arg(1) {
        "batches" => run_batches(
            arg(2).parse().expect("total"),
            arg(3).parse().expect("window_batches"),
            &args[4..],
        ),
        "socket" => run_socket(arg(2), arg(3), arg(4).parse().expect("expected_words")),
        _ => {
            eprintln!("usage: peer-word-count batches <total> <window_batches> <file>... | socket <host> <port> <expected_words>");
            std::process::exit(2);
        }
    }
}
