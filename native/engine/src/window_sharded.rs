//! A window aggregator split into shards by key hash, updated on several threads.
//!
//! Shard `s` holds the keys with `murmur3(key) % shards == s`: the placement shuffles use, so
//! with as many shards as output partitions each shard *is* an output partition and emitting
//! partitioned output costs no extra pass. Every call (add, evict, advance, emit) runs the shards
//! side by side on scoped threads (one per core at most; small calls stay on the caller's
//! thread). Each key lives in one shard, so its value sees the same operations in the same
//! order as in a single aggregator: results are bit-identical whatever the shard count.
//!
//! Order is kept by sequence numbers: every row added gets the next number, a key records the
//! number of the row with which it (re)entered the state, and in a shard a pane entry records
//! the row that first put its key in the pane. The single aggregator's order (emission, and
//! the canonical snapshot) is the merge of the shards by those numbers; the snapshot bytes are
//! the ones a single aggregator writes, and a snapshot from either engine restores into any
//! shard count.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::num::NonZeroUsize;

use super::{check_time, Acc, KeyKind, KeyMeta, Keys, Pane, WindowAggregator};
use crate::agg::{check_values, AggOp};
use crate::columns::KeyColumn;
use crate::hash::{murmur3_32, murmur3_i64};
use crate::reduce::{BytesGroups, I64Groups};
use crate::EngineError;

/// Most shards accepted: a shard per output partition is the intended use.
pub const MAX_SHARDS: u32 = 4096;

/// Below this many rows (or live keys) a call is cheaper on one thread than spawning another.
const PARALLEL_ROWS: usize = 4096;

/// Window state split into shards by key hash; see the module documentation.
#[derive(Debug, Clone)]
pub struct ShardedWindowAggregator {
    shards: Vec<WindowAggregator>,
    /// Sequence number of the next row added.
    next_seq: u64,
    /// Threads a call may use: the shard count, at most the cores available.
    threads: usize,
    /// Calls with at least this many rows (or live keys) use the threads.
    parallel_from: usize,
}

impl ShardedWindowAggregator {
    /// A new aggregator for `op` over windows of `window_ms` sliding by `slide_ms`, its keys in
    /// `shards` shards (1: a single aggregator, no threads).
    pub fn new(
        op: AggOp,
        window_ms: u64,
        slide_ms: u64,
        kind: KeyKind,
        shards: u32,
    ) -> Result<Self, EngineError> {
        if shards == 0 || shards > MAX_SHARDS {
            return Err(EngineError::InvalidArgument {
                name: "shards",
                reason: format!("must be a whole number from 1 to {MAX_SHARDS}, got {shards}"),
            });
        }
        let mut one = WindowAggregator::new(op, window_ms, slide_ms, kind)?;
        one.track_entry_order = shards > 1;
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Ok(Self {
            shards: vec![one; shards as usize],
            next_seq: 0,
            threads: cores.min(shards as usize),
            parallel_from: PARALLEL_ROWS,
        })
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The pane length in milliseconds: `gcd(window, slide)`.
    pub fn pane_ms(&self) -> u64 {
        self.first().pane_ms()
    }

    /// Number of keys held by at least one pane.
    pub fn live_keys(&self) -> usize {
        self.shards.iter().map(WindowAggregator::live_keys).sum()
    }

    /// Number of panes held (a pane counts once however many shards hold part of it).
    pub fn pane_count(&self) -> usize {
        if self.shards.len() == 1 {
            return self.first().pane_count();
        }
        self.pane_ids().len()
    }

    /// Approximate bytes of memory held.
    pub fn memory_bytes(&self) -> usize {
        self.shards.iter().map(WindowAggregator::memory_bytes).sum()
    }

    /// Adds a batch of byte keys (one value per key; none for `count`) at `time_ms`.
    pub fn add_bytes(
        &mut self,
        time_ms: u64,
        keys: KeyColumn<'_>,
        values: &[f64],
    ) -> Result<(), EngineError> {
        self.add_parts(time_ms, &[(keys, values)])
    }

    /// Adds the parts of a batch of byte keys (each with one value per key; none for `count`)
    /// at `time_ms`, one after the other as if they were one batch. Parts already placed by
    /// key hash (a shuffle's output partitions, as many as the shards) go each to its own shard
    /// on its own thread.
    pub fn add_bytes_parts(
        &mut self,
        time_ms: u64,
        parts: &[(KeyColumn<'_>, &[f64])],
    ) -> Result<(), EngineError> {
        self.add_parts(time_ms, parts)
    }

    /// Adds a batch of 64-bit integer keys at `time_ms`.
    pub fn add_i64(
        &mut self,
        time_ms: u64,
        keys: &[i64],
        values: &[f64],
    ) -> Result<(), EngineError> {
        self.add_parts(time_ms, &[(keys, values)])
    }

    /// As [`add_bytes_parts`](Self::add_bytes_parts) for 64-bit integer keys.
    pub fn add_i64_parts(
        &mut self,
        time_ms: u64,
        parts: &[(&[i64], &[f64])],
    ) -> Result<(), EngineError> {
        self.add_parts(time_ms, parts)
    }

    /// Drops every pane whose data lies at or before `time_ms`; keys left in no pane are
    /// forgotten.
    pub fn evict(&mut self, time_ms: u64) -> Result<(), EngineError> {
        check_time("timeMs", time_ms)?;
        let work = self.live_keys();
        first_error(self.each_shard(work, |_, shard| shard.evict(time_ms)))
    }

    /// Moves the running window to end at `window_end_ms` without building the result.
    pub fn advance(&mut self, window_end_ms: u64) -> Result<(), EngineError> {
        self.first().window_panes(window_end_ms)?;
        let work = self.live_keys();
        first_error(self.each_shard(work, |_, shard| shard.advance(window_end_ms)))
    }

    /// The window ending at `window_end_ms` as byte keys, in the order keys (re)entered the
    /// state (a single aggregator's order).
    pub fn emit_bytes(&mut self, window_end_ms: u64) -> Result<BytesGroups, EngineError> {
        self.emit(window_end_ms)
    }

    /// The window ending at `window_end_ms` as 64-bit keys, in (re)entry order.
    pub fn emit_i64(&mut self, window_end_ms: u64) -> Result<I64Groups, EngineError> {
        self.emit(window_end_ms)
    }

    /// The window ending at `window_end_ms` placed into `num_partitions` partitions by
    /// `murmur3(key) % num_partitions`, each in (re)entry order: what `emit_bytes` and a stable
    /// hash partitioning give. With as many partitions as shards, each shard is a partition.
    pub fn emit_bytes_partitioned(
        &mut self,
        window_end_ms: u64,
        num_partitions: u32,
    ) -> Result<Vec<BytesGroups>, EngineError> {
        self.emit_partitioned(window_end_ms, num_partitions)
    }

    /// As [`emit_bytes_partitioned`](Self::emit_bytes_partitioned) for 64-bit keys.
    pub fn emit_i64_partitioned(
        &mut self,
        window_end_ms: u64,
        num_partitions: u32,
    ) -> Result<Vec<I64Groups>, EngineError> {
        self.emit_partitioned(window_end_ms, num_partitions)
    }

    /// The state as canonical snapshot bytes: the bytes a single aggregator holding the same
    /// data writes.
    pub fn snapshot(&self) -> Vec<u8> {
        if self.shards.len() == 1 {
            return self.first().snapshot();
        }
        self.merged().snapshot()
    }

    /// Replaces the state with a snapshot from an aggregator of the same op, key kind, window
    /// and slide (either engine, any shard count).
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), EngineError> {
        let first = self.first();
        let mut whole =
            WindowAggregator::new(first.op, first.window_ms, first.slide_ms, first.kind)?;
        whole.restore(bytes)?;
        self.next_seq = whole.next_seq;
        if self.shards.len() == 1 {
            self.shards[0] = whole;
        } else {
            self.shards = split(whole, self.shards.len());
        }
        Ok(())
    }

    fn first(&self) -> &WindowAggregator {
        &self.shards[0]
    }

    /// Adds the parts of a batch of either key kind; see
    /// [`add_bytes_parts`](Self::add_bytes_parts).
    fn add_parts<K: BatchKeys>(
        &mut self,
        time_ms: u64,
        parts: &[(K, &[f64])],
    ) -> Result<(), EngineError> {
        self.first().check_kind(K::KIND)?;
        let mut rows = 0;
        for &(keys, values) in parts {
            check_values(self.first().op, keys.rows(), values.len())?;
            rows += keys.rows();
        }
        let pane_id = self.check_add(K::KIND, time_ms)?;
        let n = self.shards.len() as u32;
        let mut seq = self.take_seqs(rows);
        if n == 1 {
            for &(keys, values) in parts {
                keys.add_rows(&mut self.shards[0], pane_id, values, seq, 0..keys.rows());
                seq += keys.rows() as u64;
            }
            return Ok(());
        }
        let routes: Vec<_> = parts
            .iter()
            .map(|&(keys, _)| self.route(keys.rows(), |row| keys.murmur3(row) % n))
            .collect();
        self.each_shard(rows, |s, shard| {
            let mut part_seq = seq;
            for (&(keys, values), (order, starts)) in parts.iter().zip(&routes) {
                let own = order[starts[s]..starts[s + 1]]
                    .iter()
                    .map(|&row| row as usize);
                keys.add_rows(shard, pane_id, values, part_seq, own);
                part_seq += keys.rows() as u64;
            }
        });
        Ok(())
    }

    /// The window ending at `window_end_ms` in (re)entry order, of either key kind.
    fn emit<G: WindowGroups>(&mut self, window_end_ms: u64) -> Result<G, EngineError> {
        self.first().check_kind(G::KIND)?;
        if self.shards.len() == 1 {
            return G::emit_shard(&mut self.shards[0], window_end_ms);
        }
        let (order, values) = self.emit_merged(window_end_ms)?;
        let mut out = G::with_capacity(order.len());
        for &(s, id) in &order {
            out.push_key(&self.shards[s].keys, id);
        }
        *out.values_mut() = values;
        Ok(out)
    }

    /// The window ending at `window_end_ms` placed into `num_partitions` partitions, of either
    /// key kind; see [`emit_bytes_partitioned`](Self::emit_bytes_partitioned).
    fn emit_partitioned<G: WindowGroups>(
        &mut self,
        window_end_ms: u64,
        num_partitions: u32,
    ) -> Result<Vec<G>, EngineError> {
        check_partitions(num_partitions)?;
        self.first().check_kind(G::KIND)?;
        if num_partitions as usize == self.shards.len() {
            self.first().window_panes(window_end_ms)?;
            let work = self.live_keys();
            return self
                .each_shard(work, |_, shard| G::emit_shard(shard, window_end_ms))
                .into_iter()
                .collect();
        }
        let (order, values) = self.emit_order(window_end_ms)?;
        let mut parts: Vec<G> = (0..num_partitions).map(|_| G::with_capacity(0)).collect();
        for (&(s, id), value) in order.iter().zip(values) {
            let shard = &self.shards[s];
            let part = &mut parts[(shard.key_hashes[id as usize] % num_partitions) as usize];
            part.push_key(&shard.keys, id);
            part.values_mut().push(value);
        }
        Ok(parts)
    }

    /// Checks an add before any shard changes: every shard would give the same answer.
    fn check_add(&mut self, kind: KeyKind, time_ms: u64) -> Result<i64, EngineError> {
        let first = &mut self.shards[0];
        first.check_kind(kind)?;
        first.open_pane(time_ms)
    }

    /// Hands out `rows` sequence numbers; returns the first.
    fn take_seqs(&mut self, rows: usize) -> u64 {
        let seq = self.next_seq;
        self.next_seq += rows as u64;
        seq
    }

    /// The rows grouped by shard (`shard_of(row)`, hashed on the call's threads): shard `s`
    /// has rows `order[starts[s]..starts[s + 1]]`, ascending.
    fn route(&self, rows: usize, shard_of: impl Fn(usize) -> u32 + Sync) -> (Vec<u32>, Vec<usize>) {
        let route = self.shard_of_rows(rows, shard_of);
        let mut starts = vec![0usize; self.shards.len() + 1];
        for &s in &route {
            starts[s as usize + 1] += 1;
        }
        for s in 0..self.shards.len() {
            starts[s + 1] += starts[s];
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; rows];
        for (row, &s) in route.iter().enumerate() {
            order[next[s as usize]] = row as u32;
            next[s as usize] += 1;
        }
        (order, starts)
    }

    /// The shard of every row, computed on the call's threads.
    fn shard_of_rows(&self, rows: usize, shard_of: impl Fn(usize) -> u32 + Sync) -> Vec<u32> {
        let mut route = vec![0u32; rows];
        let threads = if rows >= self.parallel_from {
            self.threads
        } else {
            1
        };
        let chunk = rows.div_ceil(threads).max(1);
        let fill = |start: usize, part: &mut [u32]| {
            for (i, slot) in part.iter_mut().enumerate() {
                *slot = shard_of(start + i);
            }
        };
        if threads <= 1 {
            fill(0, &mut route);
            return route;
        }
        std::thread::scope(|scope| {
            let mut parts = route.chunks_mut(chunk).enumerate();
            let (_, head) = parts.next().expect("at least one row");
            let fill = &fill;
            for (c, part) in parts {
                scope.spawn(move || fill(c * chunk, part));
            }
            fill(0, head);
        });
        route
    }

    /// Runs `work_on(shard index, shard)` for every shard, the shards spread over the call's
    /// threads when `work` (rows or keys) is large enough; results in shard order.
    fn each_shard<R: Send>(
        &mut self,
        work: usize,
        work_on: impl Fn(usize, &mut WindowAggregator) -> R + Sync,
    ) -> Vec<R> {
        let threads = if work >= self.parallel_from {
            self.threads
        } else {
            1
        };
        if threads <= 1 {
            return self
                .shards
                .iter_mut()
                .enumerate()
                .map(|(s, shard)| work_on(s, shard))
                .collect();
        }
        let per = self.shards.len().div_ceil(threads);
        let work_on = &work_on;
        let run = move |c: usize, group: &mut [WindowAggregator]| -> Vec<R> {
            group
                .iter_mut()
                .enumerate()
                .map(|(i, shard)| work_on(c * per + i, shard))
                .collect()
        };
        std::thread::scope(|scope| {
            let mut groups = self.shards.chunks_mut(per).enumerate();
            let (_, head) = groups.next().expect("at least one shard");
            let others: Vec<_> = groups
                .map(|(c, group)| scope.spawn(move || run(c, group)))
                .collect();
            let mut out = run(0, head);
            for other in others {
                out.extend(
                    other
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                );
            }
            out
        })
    }

    /// The window's `(shard, id)`s and values in (re)entry order.
    #[allow(clippy::type_complexity)]
    fn emit_order(
        &mut self,
        window_end_ms: u64,
    ) -> Result<(Vec<(usize, u32)>, Vec<f64>), EngineError> {
        if self.shards.len() > 1 {
            return self.emit_merged(window_end_ms);
        }
        let (ids, values) = self.shards[0].emit_ids(window_end_ms)?;
        Ok((ids.into_iter().map(|id| (0, id)).collect(), values))
    }

    /// The window's `(shard, id)`s and values, merged from the shards into (re)entry order.
    #[allow(clippy::type_complexity)]
    fn emit_merged(
        &mut self,
        window_end_ms: u64,
    ) -> Result<(Vec<(usize, u32)>, Vec<f64>), EngineError> {
        self.first().window_panes(window_end_ms)?;
        let work = self.live_keys();
        let parts: Vec<(Vec<u32>, Vec<f64>)> = self
            .each_shard(work, |_, shard| shard.emit_ids(window_end_ms))
            .into_iter()
            .collect::<Result<_, _>>()?;
        let total = parts.iter().map(|p| p.0.len()).sum();
        let mut order = Vec::with_capacity(total);
        let mut values = Vec::with_capacity(total);
        let mut at = vec![0usize; parts.len()];
        let seq_of = |s: usize, i: usize| self.shards[s].key_seqs[parts[s].0[i] as usize];
        let mut next: BinaryHeap<Reverse<(u64, usize)>> = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.0.is_empty())
            .map(|(s, _)| Reverse((seq_of(s, 0), s)))
            .collect();
        while let Some(Reverse((_, s))) = next.pop() {
            let i = at[s];
            order.push((s, parts[s].0[i]));
            values.push(parts[s].1[i]);
            at[s] = i + 1;
            if i + 1 < parts[s].0.len() {
                next.push(Reverse((seq_of(s, i + 1), s)));
            }
        }
        Ok((order, values))
    }

    /// Pane ids held by any shard, ascending.
    fn pane_ids(&self) -> BTreeSet<i64> {
        self.shards
            .iter()
            .flat_map(|shard| shard.panes.keys().copied())
            .collect()
    }

    /// The shards as one aggregator: live keys in (re)entry order, pane entries in the order
    /// their keys first reached the pane.
    fn merged(&self) -> WindowAggregator {
        let first = self.first();
        let mut whole =
            WindowAggregator::new(first.op, first.window_ms, first.slide_ms, first.kind)
                .expect("options were checked when the shards were made");
        let invertible = first.op.is_invertible();
        let mut live: Vec<(u64, usize, u32)> = Vec::with_capacity(self.live_keys());
        for (s, shard) in self.shards.iter().enumerate() {
            for (id, meta) in shard.meta.iter().enumerate() {
                if meta.refs > 0 {
                    live.push((shard.key_seqs[id], s, id as u32));
                }
            }
        }
        live.sort_unstable();
        let mut remap: Vec<Vec<u32>> = self
            .shards
            .iter()
            .map(|shard| vec![u32::MAX; shard.meta.len()])
            .collect();
        for &(seq, s, id) in &live {
            let shard = &self.shards[s];
            remap[s][id as usize] = whole.meta.len() as u32;
            intern_copy(&mut whole.keys, &shard.keys, id);
            whole.meta.push(KeyMeta {
                refs: shard.meta[id as usize].refs,
                ..KeyMeta::default()
            });
            whole.key_seqs.push(seq);
            whole.key_hashes.push(shard.key_hashes[id as usize]);
            if invertible {
                whole.running.push(shard.running[id as usize]);
            }
        }
        whole.live = live.len();
        for pane_id in self.pane_ids() {
            let mut entries: Vec<(u64, Acc)> = Vec::new();
            for (s, shard) in self.shards.iter().enumerate() {
                let Some(pane) = shard.panes.get(&pane_id) else {
                    continue;
                };
                for (entry, &seq) in pane.entries.iter().zip(&pane.seqs) {
                    let mut entry = *entry;
                    entry.key = remap[s][entry.key as usize];
                    entries.push((seq, entry));
                }
            }
            entries.sort_unstable_by_key(|e| e.0);
            let pane = Pane {
                entries: entries.into_iter().map(|e| e.1).collect(),
                seqs: Vec::new(),
            };
            whole.pane_bytes += pane.memory_bytes();
            whole.panes.insert(pane_id, pane);
        }
        whole.evicted_through = first.evicted_through;
        whole.run = first.run;
        whole.next_seq = self.next_seq;
        whole
    }
}

/// A batch's key column of one kind: what adding and routing rows needs to know of it, so one
/// body serves both kinds (monomorphised, no dispatch per row).
trait BatchKeys: Copy + Sync {
    const KIND: KeyKind;

    fn rows(self) -> usize;

    /// `murmur3(key)` of `row`: the hash that places the row in a shard.
    fn murmur3(self, row: usize) -> u32;

    /// Adds `rows` of this (checked) batch to `shard`'s pane `pane_id`; row `r` has sequence
    /// number `seq + r`.
    fn add_rows(
        self,
        shard: &mut WindowAggregator,
        pane_id: i64,
        values: &[f64],
        seq: u64,
        rows: impl Iterator<Item = usize>,
    );
}

impl BatchKeys for KeyColumn<'_> {
    const KIND: KeyKind = KeyKind::Utf8;

    #[inline]
    fn rows(self) -> usize {
        self.len()
    }

    #[inline]
    fn murmur3(self, row: usize) -> u32 {
        murmur3_32(self.get(row), 0)
    }

    #[inline]
    fn add_rows(
        self,
        shard: &mut WindowAggregator,
        pane_id: i64,
        values: &[f64],
        seq: u64,
        rows: impl Iterator<Item = usize>,
    ) {
        shard.add_bytes_rows(pane_id, self, values, seq, rows);
    }
}

impl BatchKeys for &[i64] {
    const KIND: KeyKind = KeyKind::I64;

    #[inline]
    fn rows(self) -> usize {
        self.len()
    }

    #[inline]
    fn murmur3(self, row: usize) -> u32 {
        murmur3_i64(self[row], 0)
    }

    #[inline]
    fn add_rows(
        self,
        shard: &mut WindowAggregator,
        pane_id: i64,
        values: &[f64],
        seq: u64,
        rows: impl Iterator<Item = usize>,
    ) {
        shard.add_i64_rows(pane_id, self, values, seq, rows);
    }
}

/// A window's result of one key kind, built key by key from the shards' dictionaries.
trait WindowGroups: Sized + Send {
    const KIND: KeyKind;

    /// One shard's window, as a single aggregator emits it.
    fn emit_shard(shard: &mut WindowAggregator, window_end_ms: u64) -> Result<Self, EngineError>;

    /// No groups yet, with room for `keys` keys (and no values: they are moved or pushed in).
    fn with_capacity(keys: usize) -> Self;

    /// Appends key `id` of a shard's dictionary `keys` (of this kind).
    fn push_key(&mut self, keys: &Keys, id: u32);

    fn values_mut(&mut self) -> &mut Vec<f64>;
}

impl WindowGroups for BytesGroups {
    const KIND: KeyKind = KeyKind::Utf8;

    fn emit_shard(shard: &mut WindowAggregator, window_end_ms: u64) -> Result<Self, EngineError> {
        shard.emit_bytes(window_end_ms)
    }

    fn with_capacity(keys: usize) -> Self {
        let mut offsets = Vec::with_capacity(keys + 1);
        offsets.push(0);
        BytesGroups {
            keys: Vec::new(),
            offsets,
            values: Vec::new(),
        }
    }

    #[inline(always)]
    fn push_key(&mut self, keys: &Keys, id: u32) {
        let Keys::Bytes(dict) = keys else {
            unreachable!("kind checked")
        };
        self.keys.extend_from_slice(dict.get(id));
        self.offsets.push(self.keys.len() as u32);
    }

    #[inline(always)]
    fn values_mut(&mut self) -> &mut Vec<f64> {
        &mut self.values
    }
}

impl WindowGroups for I64Groups {
    const KIND: KeyKind = KeyKind::I64;

    fn emit_shard(shard: &mut WindowAggregator, window_end_ms: u64) -> Result<Self, EngineError> {
        shard.emit_i64(window_end_ms)
    }

    fn with_capacity(keys: usize) -> Self {
        I64Groups {
            keys: Vec::with_capacity(keys),
            values: Vec::new(),
        }
    }

    #[inline(always)]
    fn push_key(&mut self, keys: &Keys, id: u32) {
        let Keys::Ints(dict) = keys else {
            unreachable!("kind checked")
        };
        self.keys.push(dict.get(id));
    }

    #[inline(always)]
    fn values_mut(&mut self) -> &mut Vec<f64> {
        &mut self.values
    }
}

/// Splits a single aggregator into `n` shards by key hash, keeping its order in sequence numbers.
fn split(whole: WindowAggregator, n: usize) -> Vec<WindowAggregator> {
    let invertible = whole.op.is_invertible();
    let mut shards: Vec<WindowAggregator> = (0..n)
        .map(|_| {
            let mut shard =
                WindowAggregator::new(whole.op, whole.window_ms, whole.slide_ms, whole.kind)
                    .expect("options were checked when the aggregator was made");
            shard.track_entry_order = true;
            shard.evicted_through = whole.evicted_through;
            shard.run = whole.run;
            shard
        })
        .collect();
    let mut placed = vec![(usize::MAX, u32::MAX); whole.meta.len()];
    for (id, meta) in whole.meta.iter().enumerate() {
        if meta.refs == 0 {
            continue;
        }
        let hash = whole.key_hashes[id];
        let s = (hash % n as u32) as usize;
        let shard = &mut shards[s];
        placed[id] = (s, shard.meta.len() as u32);
        intern_copy(&mut shard.keys, &whole.keys, id as u32);
        shard.meta.push(KeyMeta {
            refs: meta.refs,
            ..KeyMeta::default()
        });
        shard.key_seqs.push(whole.key_seqs[id]);
        shard.key_hashes.push(hash);
        if invertible {
            shard.running.push(whole.running[id]);
        }
        shard.live += 1;
    }
    for (&pane_id, pane) in &whole.panes {
        let mut parts: Vec<Pane> = (0..n).map(|_| Pane::default()).collect();
        for (at, entry) in pane.entries.iter().enumerate() {
            let (s, id) = placed[entry.key as usize];
            let part = &mut parts[s];
            part.entries.push(Acc { key: id, ..*entry });
            // A restored pane's entries are in order already: their positions order them.
            part.seqs.push(at as u64);
        }
        for (shard, part) in shards.iter_mut().zip(parts) {
            if !part.entries.is_empty() {
                shard.pane_bytes += part.memory_bytes();
                shard.panes.insert(pane_id, part);
            }
        }
    }
    shards
}

/// Interns key `id` of `from` into `into` (both of the same kind).
fn intern_copy(into: &mut Keys, from: &Keys, id: u32) {
    match (into, from) {
        (Keys::Bytes(into), Keys::Bytes(from)) => {
            into.intern(from.get(id));
        }
        (Keys::Ints(into), Keys::Ints(from)) => {
            into.intern(from.get(id));
        }
        _ => unreachable!("shards hold one key kind"),
    }
}

fn check_partitions(num_partitions: u32) -> Result<(), EngineError> {
    if num_partitions == 0 {
        return Err(EngineError::InvalidArgument {
            name: "numPartitions",
            reason: "must be at least 1, got 0".to_string(),
        });
    }
    Ok(())
}

fn first_error(results: Vec<Result<(), EngineError>>) -> Result<(), EngineError> {
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::canonical_bits;
    use proptest::prelude::*;

    fn sharded(
        op: AggOp,
        window: u64,
        slide: u64,
        kind: KeyKind,
        n: u32,
    ) -> ShardedWindowAggregator {
        let mut agg = ShardedWindowAggregator::new(op, window, slide, kind, n).unwrap();
        // Threads (two, whatever the machine) from the first row, so small tests run them too.
        agg.threads = n.min(2) as usize;
        agg.parallel_from = 1;
        agg
    }

    /// The reference placement: byte-key groups into partitions by hash, each in order.
    fn place_bytes(all: BytesGroups, num_partitions: u32) -> Vec<BytesGroups> {
        let mut parts: Vec<BytesGroups> = (0..num_partitions)
            .map(|_| BytesGroups {
                keys: Vec::new(),
                offsets: vec![0],
                values: Vec::new(),
            })
            .collect();
        for (row, &value) in all.values.iter().enumerate() {
            let key = &all.keys[all.offsets[row] as usize..all.offsets[row + 1] as usize];
            let part = &mut parts[(murmur3_32(key, 0) % num_partitions) as usize];
            part.keys.extend_from_slice(key);
            part.offsets.push(part.keys.len() as u32);
            part.values.push(value);
        }
        parts
    }

    fn bits(values: &[f64]) -> Vec<u64> {
        values.iter().map(|v| canonical_bits(*v)).collect()
    }

    /// Word keys from small numbers: several per shard, some longer than a hash block.
    fn word(k: u16) -> Vec<u8> {
        if k.is_multiple_of(5) {
            format!("long-word-{k}-é").into_bytes()
        } else {
            format!("w{k}").into_bytes()
        }
    }

    fn column(words: &[Vec<u8>]) -> (Vec<u8>, Vec<u32>) {
        let mut blob = Vec::new();
        let mut offsets = vec![0u32];
        for w in words {
            blob.extend_from_slice(w);
            offsets.push(blob.len() as u32);
        }
        (blob, offsets)
    }

    #[test]
    fn rejects_zero_shards_and_zero_partitions() {
        assert!(ShardedWindowAggregator::new(AggOp::Sum, 2, 1, KeyKind::I64, 0).is_err());
        let mut agg = sharded(AggOp::Sum, 2, 1, KeyKind::I64, 2);
        assert!(agg.emit_i64_partitioned(1, 0).is_err());
        assert!(agg
            .add_bytes(1, KeyColumn::new(b"a", &[0, 1]).unwrap(), &[1.0])
            .is_err());
    }

    #[test]
    fn emits_in_the_order_keys_entered_across_shards() {
        let mut agg = sharded(AggOp::Sum, 3000, 1000, KeyKind::I64, 2);
        let keys: Vec<i64> = (0..40).collect();
        let values: Vec<f64> = keys.iter().map(|&k| k as f64).collect();
        agg.add_i64(1000, &keys, &values).unwrap();
        agg.add_i64(2000, &[99, 3], &[1.0, 1.0]).unwrap();
        let out = agg.emit_i64(2000).unwrap();
        let mut expected: Vec<i64> = keys.clone();
        expected.push(99);
        assert_eq!(out.keys, expected);
        assert!(
            agg.shards.iter().all(|s| s.live_keys() > 0),
            "keys in both shards"
        );
        let parts = agg.emit_i64_partitioned(2000, 2).unwrap();
        for (p, part) in parts.iter().enumerate() {
            let want: Vec<i64> = expected
                .iter()
                .copied()
                .filter(|&k| murmur3_i64(k, 0) % 2 == p as u32)
                .collect();
            assert_eq!(part.keys, want);
        }
    }

    proptest! {
        /// Any shard count gives a single aggregator's emission (values and order), partitioned
        /// emission, and snapshot bytes, at every step; snapshots move between shard counts.
        #[test]
        fn shards_match_a_single_aggregator(
            batches in proptest::collection::vec(proptest::collection::vec((0u16..40, -50i32..50), 0..30), 1..20),
            panes_per_window in 1u64..5,
            panes_per_slide in 1u64..3,
            shards in 1u32..5,
            partitions in 1u32..4,
            restore_at in 0usize..20,
            op in prop_oneof![Just(AggOp::Sum), Just(AggOp::Count), Just(AggOp::Min), Just(AggOp::Max), Just(AggOp::Mean)],
            utf8 in any::<bool>(),
            placed in any::<bool>(),
        ) {
            let pane = 100u64;
            let (window, slide) = (pane * panes_per_window * panes_per_slide, pane * panes_per_slide);
            let kind = if utf8 { KeyKind::Utf8 } else { KeyKind::I64 };
            let mut single = WindowAggregator::new(op, window, slide, kind).unwrap();
            let mut split = sharded(op, window, slide, kind, shards);
            for (i, batch) in batches.iter().enumerate() {
                let t = (i as u64 + 1) * pane;
                // Parts: a shuffle's output (placed by hash, as many as the shards) or cut
                // anywhere; the single aggregator gets them one after the other.
                let shard_of = |k: u16| if utf8 {
                    murmur3_32(&word(k), 0) % shards
                } else {
                    murmur3_i64(i64::from(k) * 7919, 0) % shards
                };
                let parts: Vec<Vec<(u16, i32)>> = if placed {
                    (0..shards).map(|s| batch.iter().copied().filter(|b| shard_of(b.0) == s).collect()).collect()
                } else {
                    let cut = batch.len() / 3;
                    vec![batch[..cut].to_vec(), batch[cut..].to_vec()]
                };
                let all: Vec<(u16, i32)> = parts.concat();
                let value_list = |rows: &[(u16, i32)]| -> Vec<f64> {
                    if op == AggOp::Count { Vec::new() } else { rows.iter().map(|b| f64::from(b.1)).collect() }
                };
                if utf8 {
                    let columns: Vec<(Vec<u8>, Vec<u32>)> = parts.iter()
                        .map(|p| column(&p.iter().map(|b| word(b.0)).collect::<Vec<_>>()))
                        .collect();
                    let values: Vec<Vec<f64>> = parts.iter().map(|p| value_list(p)).collect();
                    let split_parts: Vec<(KeyColumn<'_>, &[f64])> = columns.iter().zip(&values)
                        .map(|((blob, offsets), v)| (KeyColumn::new(blob, offsets).unwrap(), v.as_slice()))
                        .collect();
                    split.add_bytes_parts(t, &split_parts).unwrap();
                    let (blob, offsets) = column(&all.iter().map(|b| word(b.0)).collect::<Vec<_>>());
                    single.add_bytes(t, KeyColumn::new(&blob, &offsets).unwrap(), &value_list(&all)).unwrap();
                } else {
                    let keys: Vec<Vec<i64>> = parts.iter()
                        .map(|p| p.iter().map(|b| i64::from(b.0) * 7919).collect())
                        .collect();
                    let values: Vec<Vec<f64>> = parts.iter().map(|p| value_list(p)).collect();
                    let split_parts: Vec<(&[i64], &[f64])> = keys.iter().zip(&values)
                        .map(|(k, v)| (k.as_slice(), v.as_slice()))
                        .collect();
                    split.add_i64_parts(t, &split_parts).unwrap();
                    let all_keys: Vec<i64> = all.iter().map(|b| i64::from(b.0) * 7919).collect();
                    single.add_i64(t, &all_keys, &value_list(&all)).unwrap();
                }
                if i == restore_at {
                    // A single aggregator's snapshot restores into the shards, and back.
                    let mut again = sharded(op, window, slide, kind, shards);
                    again.restore(&single.snapshot()).unwrap();
                    split = again;
                    let mut back = WindowAggregator::new(op, window, slide, kind).unwrap();
                    back.restore(&split.snapshot()).unwrap();
                    single = back;
                }
                if t.is_multiple_of(slide) {
                    if utf8 {
                        let a = single.emit_bytes(t).unwrap();
                        let b = split.emit_bytes(t).unwrap();
                        prop_assert_eq!(&a.keys, &b.keys);
                        prop_assert_eq!(&a.offsets, &b.offsets);
                        prop_assert_eq!(bits(&a.values), bits(&b.values));
                        // Other partition counts, and the shards' own count (each shard a partition).
                        for n in [partitions, shards] {
                            let parts = split.emit_bytes_partitioned(t, n).unwrap();
                            prop_assert_eq!(parts.len(), n as usize);
                            for (p, part) in place_bytes(a.clone(), n).iter().zip(&parts) {
                                prop_assert_eq!(&p.keys, &part.keys);
                                prop_assert_eq!(&p.offsets, &part.offsets);
                                prop_assert_eq!(bits(&p.values), bits(&part.values));
                            }
                        }
                    } else {
                        let a = single.emit_i64(t).unwrap();
                        let b = split.emit_i64(t).unwrap();
                        prop_assert_eq!(&a.keys, &b.keys);
                        prop_assert_eq!(bits(&a.values), bits(&b.values));
                        let parts = split.emit_i64_partitioned(t, partitions).unwrap();
                        for (p, part) in parts.iter().enumerate() {
                            let want: Vec<(i64, u64)> = a.keys.iter().zip(&a.values)
                                .filter(|(k, _)| murmur3_i64(**k, 0) % partitions == p as u32)
                                .map(|(k, v)| (*k, canonical_bits(*v)))
                                .collect();
                            let got: Vec<(i64, u64)> = part.keys.iter().zip(&part.values)
                                .map(|(k, v)| (*k, canonical_bits(*v)))
                                .collect();
                            prop_assert_eq!(got, want);
                        }
                    }
                    if t > window {
                        single.evict(t + slide - window).unwrap();
                        split.evict(t + slide - window).unwrap();
                    }
                }
                prop_assert_eq!(split.live_keys(), single.live_keys());
                prop_assert_eq!(split.pane_count(), single.pane_count());
                prop_assert_eq!(split.snapshot(), single.snapshot());
            }
        }
    }
}
