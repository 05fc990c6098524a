//! Sliding-window aggregation over panes.
//!
//! Time is cut into panes of `gcd(window, slide)` milliseconds; pane `k` holds the data with
//! times in `((k - 1) * pane, k * pane]`, so a window ending at `e` (Spark's `(e - window, e]`)
//! is exactly panes `(e - window) / pane + 1 ..= e / pane`. Each pane keeps one entry per key.
//!
//! For `sum`, `count` and `mean` the aggregator keeps the current window's value per key and
//! moves it incrementally: panes entering the window are added, panes leaving it subtracted, so
//! the cost per record does not grow with window / slide. Non-finite values are counted apart
//! (NaN, +Inf, -Inf) so subtracting them is exact; a key whose count drops to zero restarts
//! from `+0`. `min` and `max` have no inverse and are recomputed from the panes at each emit.
//!
//! Keys are dictionary-encoded once. A key held by no pane is forgotten (if it comes back it is
//! new), so emitted keys come in the order they (re)appeared. `snapshot` writes a canonical,
//! versioned byte format that both engines produce identically (see `docs/kernels.md`).

use std::collections::BTreeMap;

use crate::agg::{canonical_bits, check_values, js_max, js_min, AggOp};
use crate::columns::KeyColumn;
use crate::dictionary::{BytesDictionary, I64Dictionary};
use crate::hash::{murmur3_32, murmur3_i64};
use crate::reduce::{BytesGroups, I64Groups};
use crate::EngineError;

#[path = "window_sharded.rs"]
mod sharded;
pub use sharded::ShardedWindowAggregator;

/// The kind of key a window aggregator holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Utf8,
    I64,
}

impl KeyKind {
    /// Parses `"utf8"` or `"i64"`.
    pub fn parse(name: &str) -> Result<KeyKind, EngineError> {
        match name {
            "utf8" => Ok(KeyKind::Utf8),
            "i64" => Ok(KeyKind::I64),
            _ => Err(EngineError::InvalidArgument {
                name: "keyKind",
                reason: format!("must be \"utf8\" or \"i64\"; got {name:?}"),
            }),
        }
    }

    fn name(self) -> &'static str {
        match self {
            KeyKind::Utf8 => "utf8",
            KeyKind::I64 => "i64",
        }
    }

    fn code(self) -> u8 {
        match self {
            KeyKind::Utf8 => 0,
            KeyKind::I64 => 1,
        }
    }
}

/// Largest time accepted: JavaScript's largest safe integer.
pub const MAX_TIME_MS: u64 = (1 << 53) - 1;

const MAGIC: &[u8; 4] = b"SLWA";
const VERSION: u16 = 1;

#[derive(Debug, Clone)]
enum Keys {
    Bytes(BytesDictionary),
    Ints(I64Dictionary),
}

impl Keys {
    fn new(kind: KeyKind) -> Self {
        match kind {
            KeyKind::Utf8 => Keys::Bytes(BytesDictionary::with_capacity(0)),
            KeyKind::I64 => Keys::Ints(I64Dictionary::with_capacity(0)),
        }
    }

    fn forget(&mut self, id: u32) {
        match self {
            Keys::Bytes(d) => d.forget(id),
            Keys::Ints(d) => d.forget(id),
        }
    }

    fn memory_bytes(&self) -> usize {
        match self {
            Keys::Bytes(d) => d.memory_bytes(),
            Keys::Ints(d) => d.memory_bytes(),
        }
    }
}

/// One key's aggregate, in a pane or in the running window: 32 bytes, so an update touches a
/// single cache line. `value` is the sum of the finite values (invertible ops) or the min /
/// max so far; non-finite values are counted apart. `key` is the key id in a pane entry
/// (unused in the running window).
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    count: u64,
    value: f64,
    key: u32,
    nans: u32,
    pos_infs: u32,
    neg_infs: u32,
}

impl Acc {
    /// Adds one row's value to a sum (invertible ops).
    #[inline]
    fn add_value(&mut self, value: f64) {
        self.count += 1;
        if value.is_finite() {
            self.value += value;
        } else if value.is_nan() {
            self.nans += 1;
        } else if value > 0.0 {
            self.pos_infs += 1;
        } else {
            self.neg_infs += 1;
        }
    }

    #[inline]
    fn add(&mut self, other: &Acc) {
        self.count += other.count;
        self.value += other.value;
        self.nans += other.nans;
        self.pos_infs += other.pos_infs;
        self.neg_infs += other.neg_infs;
    }

    #[inline]
    fn subtract(&mut self, other: &Acc) {
        self.count -= other.count;
        if self.count == 0 {
            // Nothing of this key is left: restart from +0 so rounding residue never leaks.
            *self = Acc::default();
        } else {
            self.value -= other.value;
            self.nans -= other.nans;
            self.pos_infs -= other.pos_infs;
            self.neg_infs -= other.neg_infs;
        }
    }

    /// The sum: NaN if a NaN or both infinities are in, else the infinity, else the finite sum.
    fn sum(&self) -> f64 {
        if self.nans > 0 || (self.pos_infs > 0 && self.neg_infs > 0) {
            f64::NAN
        } else if self.pos_infs > 0 {
            f64::INFINITY
        } else if self.neg_infs > 0 {
            f64::NEG_INFINITY
        } else {
            self.value
        }
    }
}

/// One pane: an entry per key, in the order keys first reached the pane.
#[derive(Debug, Clone, Default)]
struct Pane {
    entries: Vec<Acc>,
    /// In a shard only: the row sequence number at which each entry's key first reached the
    /// pane, so that the shards' panes merge back into the one order a single aggregator has.
    seqs: Vec<u64>,
}

impl Pane {
    fn push(&mut self, key: u32, first: f64) -> usize {
        self.entries.push(Acc {
            key,
            value: first,
            ..Acc::default()
        });
        self.entries.len() - 1
    }

    /// Bytes held, counting a fixed share for the pane's map entry.
    fn memory_bytes(&self) -> usize {
        64 + self.entries.capacity() * std::mem::size_of::<Acc>()
            + self.seqs.capacity() * std::mem::size_of::<u64>()
    }
}

/// Per key id: how many panes hold it, and where it sits in the pane being filled.
#[derive(Debug, Clone, Copy, Default)]
struct KeyMeta {
    /// Panes holding the key (0 = forgotten).
    refs: u32,
    /// Equal to the aggregator's generation when `slot` is valid for the active pane.
    stamp: u32,
    slot: u32,
}

/// Window state for one keyed stream: panes, the running window and the key dictionary.
#[derive(Debug, Clone)]
pub struct WindowAggregator {
    op: AggOp,
    kind: KeyKind,
    window_ms: u64,
    slide_ms: u64,
    pane_ms: u64,
    keys: Keys,
    meta: Vec<KeyMeta>,
    /// Per key id: the row sequence number at which the key (re)entered the state. Ids are
    /// handed out in this order, so a single aggregator never reads it; shards merge by it.
    key_seqs: Vec<u64>,
    /// Per key id: `murmur3(key)`, the hash partitions place keys by, so that emitting into
    /// partitions hashes no key (a key is hashed once, when it enters).
    key_hashes: Vec<u32>,
    /// Sequence number of the next row added through the public `add_*` methods.
    next_seq: u64,
    /// True in a shard of a `ShardedWindowAggregator`: panes record their entries' `seqs`.
    track_entry_order: bool,
    live: usize,
    panes: BTreeMap<i64, Pane>,
    /// Bytes held by `panes`, kept up to date so reporting memory is O(1) per call.
    pane_bytes: usize,
    /// An evicted pane's buffers, emptied, for the next new pane: a sliding window opens a
    /// pane as large as the one it evicts at every slide, and reusing its memory spares the
    /// allocator's fresh pages (page faults) and the copies of a growing vector.
    spare: Option<Pane>,
    /// Panes with ids up to this one were evicted (-1: none).
    evicted_through: i64,
    /// The current window's aggregate per key id (invertible ops only).
    running: Vec<Acc>,
    /// The pane range `running` holds, once an emit has set it.
    run: Option<(i64, i64)>,
    /// The pane being filled (its keys' `meta.slot` is valid where `meta.stamp == generation`).
    active: Option<i64>,
    generation: u32,
}

impl WindowAggregator {
    /// A new aggregator for `op` over windows of `window_ms` sliding by `slide_ms`.
    pub fn new(
        op: AggOp,
        window_ms: u64,
        slide_ms: u64,
        kind: KeyKind,
    ) -> Result<Self, EngineError> {
        for (name, value) in [("windowMs", window_ms), ("slideMs", slide_ms)] {
            if value == 0 || value > MAX_TIME_MS {
                return Err(EngineError::InvalidArgument {
                    name,
                    reason: format!(
                        "must be a whole number of milliseconds from 1 to 2^53 - 1, got {value}"
                    ),
                });
            }
        }
        Ok(Self {
            op,
            kind,
            window_ms,
            slide_ms,
            pane_ms: gcd(window_ms, slide_ms),
            keys: Keys::new(kind),
            meta: Vec::new(),
            key_seqs: Vec::new(),
            key_hashes: Vec::new(),
            next_seq: 0,
            track_entry_order: false,
            live: 0,
            panes: BTreeMap::new(),
            pane_bytes: 0,
            spare: None,
            evicted_through: -1,
            running: Vec::new(),
            run: None,
            active: None,
            generation: 1,
        })
    }

    /// The pane length in milliseconds: `gcd(window, slide)`.
    pub fn pane_ms(&self) -> u64 {
        self.pane_ms
    }

    /// Number of keys held by at least one pane.
    pub fn live_keys(&self) -> usize {
        self.live
    }

    /// Number of panes held.
    pub fn pane_count(&self) -> usize {
        self.panes.len()
    }

    /// Adds a batch of byte keys (with one value per key; none for `count`) at `time_ms`.
    pub fn add_bytes(
        &mut self,
        time_ms: u64,
        keys: KeyColumn<'_>,
        values: &[f64],
    ) -> Result<(), EngineError> {
        self.check_kind(KeyKind::Utf8)?;
        check_values(self.op, keys.len(), values.len())?;
        let pane_id = self.open_pane(time_ms)?;
        let seq = self.next_seq;
        self.next_seq += keys.len() as u64;
        self.add_bytes_rows(pane_id, keys, values, seq, 0..keys.len());
        Ok(())
    }

    /// Adds a batch of 64-bit integer keys at `time_ms`.
    pub fn add_i64(
        &mut self,
        time_ms: u64,
        keys: &[i64],
        values: &[f64],
    ) -> Result<(), EngineError> {
        self.check_kind(KeyKind::I64)?;
        check_values(self.op, keys.len(), values.len())?;
        let pane_id = self.open_pane(time_ms)?;
        let seq = self.next_seq;
        self.next_seq += keys.len() as u64;
        self.add_i64_rows(pane_id, keys, values, seq, 0..keys.len());
        Ok(())
    }

    /// Adds `rows` of a checked byte-key batch to pane `pane_id`; row `r` has sequence number
    /// `seq + r`.
    fn add_bytes_rows(
        &mut self,
        pane_id: i64,
        keys: KeyColumn<'_>,
        values: &[f64],
        seq: u64,
        rows: impl Iterator<Item = usize>,
    ) {
        self.add_rows(pane_id, values, seq, rows, |dict, row| match dict {
            Keys::Bytes(dict) => {
                let key = keys.get(row);
                let (id, is_new) = dict.intern(key);
                (id, is_new.then(|| murmur3_32(key, 0)))
            }
            Keys::Ints(_) => unreachable!("kind checked"),
        });
    }

    /// Adds `rows` of a checked 64-bit key batch to pane `pane_id`.
    fn add_i64_rows(
        &mut self,
        pane_id: i64,
        keys: &[i64],
        values: &[f64],
        seq: u64,
        rows: impl Iterator<Item = usize>,
    ) {
        self.add_rows(pane_id, values, seq, rows, |dict, row| match dict {
            Keys::Ints(dict) => {
                let (id, is_new) = dict.intern(keys[row]);
                (id, is_new.then(|| murmur3_i64(keys[row], 0)))
            }
            Keys::Bytes(_) => unreachable!("kind checked"),
        });
    }

    #[inline(always)]
    fn add_rows(
        &mut self,
        pane_id: i64,
        values: &[f64],
        seq: u64,
        rows: impl Iterator<Item = usize>,
        // The key's id, and its hash when it is new.
        mut intern: impl FnMut(&mut Keys, usize) -> (u32, Option<u32>),
    ) {
        let reads_values = self.op.reads_values();
        let existing = self.panes.remove(&pane_id);
        let bytes_before = existing.as_ref().map_or(0, Pane::memory_bytes);
        let mut pane = existing.unwrap_or_else(|| self.spare.take().unwrap_or_default());
        self.activate(pane_id, &pane);
        let mut keys_dict = std::mem::replace(&mut self.keys, Keys::new(self.kind));
        let in_run = self.in_run(pane_id);
        for row in rows {
            let (id, new_hash) = intern(&mut keys_dict, row);
            if let Some(hash) = new_hash {
                self.key_hashes.push(hash);
            }
            let value = if reads_values { values[row] } else { 0.0 };
            self.accumulate(
                &mut pane,
                id,
                new_hash.is_some(),
                value,
                in_run,
                seq + row as u64,
            );
        }
        self.keys = keys_dict;
        // A shard none of whose rows were in the batch keeps no empty pane.
        if pane.entries.is_empty() {
            self.spare = Some(pane);
        } else {
            self.pane_bytes = self.pane_bytes + pane.memory_bytes() - bytes_before;
            self.panes.insert(pane_id, pane);
        }
    }

    /// Drops every pane whose data lies at or before `time_ms`; keys left in no pane are
    /// forgotten.
    pub fn evict(&mut self, time_ms: u64) -> Result<(), EngineError> {
        check_time("timeMs", time_ms)?;
        let through = (time_ms / self.pane_ms) as i64;
        if through <= self.evicted_through {
            return Ok(());
        }
        let kept = self.panes.split_off(&(through + 1));
        let dropped = std::mem::replace(&mut self.panes, kept);
        let invertible = self.op.is_invertible();
        for (pane_id, pane) in &dropped {
            self.pane_bytes -= pane.memory_bytes();
            if invertible && self.in_run(*pane_id) {
                subtract_pane(&mut self.running, pane);
            }
            if self.active == Some(*pane_id) {
                self.active = None;
            }
            for entry in &pane.entries {
                let meta = &mut self.meta[entry.key as usize];
                meta.refs -= 1;
                if meta.refs == 0 {
                    self.keys.forget(entry.key);
                    self.live -= 1;
                }
            }
        }
        if let Some(mut pane) = dropped.into_values().last() {
            pane.entries.clear();
            pane.seqs.clear();
            self.spare = Some(pane);
        }
        if let Some((lo, hi)) = self.run {
            if lo <= through {
                self.run = Some((through + 1, hi));
            }
        }
        self.evicted_through = through;
        let dead = self.meta.len() - self.live;
        if dead > self.live.max(1024) {
            self.compact();
        }
        Ok(())
    }

    /// The window ending at `window_end_ms` (a multiple of the pane length) as byte keys.
    pub fn emit_bytes(&mut self, window_end_ms: u64) -> Result<BytesGroups, EngineError> {
        self.check_kind(KeyKind::Utf8)?;
        let (ids, values) = self.emit_ids(window_end_ms)?;
        let Keys::Bytes(dict) = &self.keys else {
            unreachable!("kind checked")
        };
        let mut keys = Vec::new();
        let mut offsets = Vec::with_capacity(ids.len() + 1);
        offsets.push(0);
        for &id in &ids {
            keys.extend_from_slice(dict.get(id));
            offsets.push(keys.len() as u32);
        }
        Ok(BytesGroups {
            keys,
            offsets,
            values,
        })
    }

    /// The window ending at `window_end_ms` as 64-bit keys.
    pub fn emit_i64(&mut self, window_end_ms: u64) -> Result<I64Groups, EngineError> {
        self.check_kind(KeyKind::I64)?;
        let (ids, values) = self.emit_ids(window_end_ms)?;
        let Keys::Ints(dict) = &self.keys else {
            unreachable!("kind checked")
        };
        Ok(I64Groups {
            keys: ids.iter().map(|&id| dict.get(id)).collect(),
            values,
        })
    }

    /// Approximate bytes of memory held (for the garbage collector's accounting).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.keys.memory_bytes()
            + self.meta.capacity() * std::mem::size_of::<KeyMeta>()
            + self.key_seqs.capacity() * std::mem::size_of::<u64>()
            + self.key_hashes.capacity() * std::mem::size_of::<u32>()
            + self.running.capacity() * std::mem::size_of::<Acc>()
            + self.pane_bytes
            + self.spare.as_ref().map_or(0, Pane::memory_bytes)
    }

    fn check_kind(&self, kind: KeyKind) -> Result<(), EngineError> {
        if self.kind == kind {
            return Ok(());
        }
        Err(EngineError::InvalidArgument {
            name: "keys",
            reason: format!(
                "this window aggregator holds {} keys, not {} keys",
                self.kind.name(),
                kind.name()
            ),
        })
    }

    fn open_pane(&mut self, time_ms: u64) -> Result<i64, EngineError> {
        check_time("timeMs", time_ms)?;
        let pane_id = time_ms.div_ceil(self.pane_ms) as i64;
        if pane_id <= self.evicted_through {
            return Err(EngineError::InvalidArgument {
                name: "timeMs",
                reason: format!(
                    "{time_ms} falls in a pane already evicted (data at or before {} ms was dropped)",
                    self.evicted_through as u64 * self.pane_ms
                ),
            });
        }
        Ok(pane_id)
    }

    fn in_run(&self, pane_id: i64) -> bool {
        self.op.is_invertible()
            && self
                .run
                .is_some_and(|(lo, hi)| lo <= pane_id && pane_id <= hi)
    }

    /// Makes `pane` the one new rows go to, marking where each of its keys sits.
    fn activate(&mut self, pane_id: i64, pane: &Pane) {
        if self.active == Some(pane_id) {
            return;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.meta.iter_mut().for_each(|m| m.stamp = 0);
            self.generation = 1;
        }
        for (slot, entry) in pane.entries.iter().enumerate() {
            let meta = &mut self.meta[entry.key as usize];
            meta.stamp = self.generation;
            meta.slot = slot as u32;
        }
        self.active = Some(pane_id);
    }

    #[inline(always)]
    fn accumulate(
        &mut self,
        pane: &mut Pane,
        id: u32,
        is_new: bool,
        value: f64,
        in_run: bool,
        seq: u64,
    ) {
        let invertible = self.op.is_invertible();
        if is_new {
            self.meta.push(KeyMeta::default());
            self.key_seqs.push(seq);
            if invertible {
                self.running.push(Acc::default());
            }
        }
        let idx = id as usize;
        let meta = &mut self.meta[idx];
        let slot = if meta.stamp == self.generation {
            meta.slot as usize
        } else {
            let slot = pane.push(id, if invertible { 0.0 } else { value });
            if self.track_entry_order {
                pane.seqs.push(seq);
            }
            meta.stamp = self.generation;
            meta.slot = slot as u32;
            meta.refs += 1;
            if meta.refs == 1 {
                self.live += 1;
            }
            slot
        };
        let entry = &mut pane.entries[slot];
        match self.op {
            AggOp::Min => {
                entry.count += 1;
                entry.value = js_min(entry.value, value);
            }
            AggOp::Max => {
                entry.count += 1;
                entry.value = js_max(entry.value, value);
            }
            _ => {
                entry.add_value(value);
                if in_run {
                    self.running[idx].add_value(value);
                }
            }
        }
    }

    /// Moves the running window to end at `window_end_ms` without building the result
    /// (`emit` does this first). For `min` / `max` there is nothing to move.
    pub fn advance(&mut self, window_end_ms: u64) -> Result<(), EngineError> {
        let (lo, hi) = self.window_panes(window_end_ms)?;
        if self.op.is_invertible() {
            self.advance_running(lo, hi);
        }
        Ok(())
    }

    /// The pane range `lo..=hi` of the window ending at `window_end_ms`.
    fn window_panes(&self, window_end_ms: u64) -> Result<(i64, i64), EngineError> {
        check_time("windowEndMs", window_end_ms)?;
        if !window_end_ms.is_multiple_of(self.pane_ms) {
            return Err(EngineError::InvalidArgument {
                name: "windowEndMs",
                reason: format!(
                    "{window_end_ms} is not a multiple of the pane length {} ms (gcd of window {} and slide {})",
                    self.pane_ms, self.window_ms, self.slide_ms
                ),
            });
        }
        let pane = self.pane_ms as i64;
        let hi = window_end_ms as i64 / pane;
        let lo = (window_end_ms as i64 - self.window_ms as i64) / pane + 1;
        Ok((lo, hi))
    }

    /// The ids and values of the window ending at `window_end_ms`, in id order.
    fn emit_ids(&mut self, window_end_ms: u64) -> Result<(Vec<u32>, Vec<f64>), EngineError> {
        let (lo, hi) = self.window_panes(window_end_ms)?;
        if self.op.is_invertible() {
            self.advance_running(lo, hi);
            Ok(self.collect_running())
        } else {
            Ok(self.emit_recomputed(lo, hi))
        }
    }

    /// Adds the panes entering `lo..=hi` to the running window and subtracts the ones leaving
    /// it; rebuilds from the panes when the window moved backwards or was never set.
    fn advance_running(&mut self, lo: i64, hi: i64) {
        match self.run {
            Some((run_lo, run_hi)) if lo >= run_lo && hi >= run_hi => {
                let leave_hi = (lo - 1).min(run_hi);
                if run_lo <= leave_hi {
                    for pane in self.panes.range(run_lo..=leave_hi).map(|(_, p)| p) {
                        subtract_pane(&mut self.running, pane);
                    }
                }
                let enter_lo = (run_hi + 1).max(lo);
                if enter_lo <= hi {
                    for pane in self.panes.range(enter_lo..=hi).map(|(_, p)| p) {
                        add_pane(&mut self.running, pane);
                    }
                }
            }
            _ => {
                self.running.fill(Acc::default());
                if lo <= hi {
                    for pane in self.panes.range(lo..=hi).map(|(_, p)| p) {
                        add_pane(&mut self.running, pane);
                    }
                }
            }
        }
        self.run = Some((lo, hi));
    }

    fn collect_running(&self) -> (Vec<u32>, Vec<f64>) {
        let mut ids = Vec::new();
        let mut values = Vec::new();
        for (id, acc) in self.running.iter().enumerate() {
            if acc.count == 0 {
                continue;
            }
            ids.push(id as u32);
            values.push(match self.op {
                AggOp::Count => acc.count as f64,
                AggOp::Sum => acc.sum(),
                _ => acc.sum() / acc.count as f64,
            });
        }
        (ids, values)
    }

    fn emit_recomputed(&mut self, lo: i64, hi: i64) -> (Vec<u32>, Vec<f64>) {
        let mut seen = vec![u32::MAX; self.meta.len()];
        let mut ids: Vec<u32> = Vec::new();
        let mut acc: Vec<f64> = Vec::new();
        if lo <= hi {
            for pane in self.panes.range(lo..=hi).map(|(_, p)| p) {
                for entry in &pane.entries {
                    let (id, value) = (entry.key, entry.value);
                    let at = &mut seen[id as usize];
                    if *at == u32::MAX {
                        *at = acc.len() as u32;
                        ids.push(id);
                        acc.push(value);
                    } else {
                        let current = &mut acc[*at as usize];
                        *current = if self.op == AggOp::Min {
                            js_min(*current, value)
                        } else {
                            js_max(*current, value)
                        };
                    }
                }
            }
        }
        let mut order: Vec<u32> = ids.clone();
        order.sort_unstable();
        let values = order
            .iter()
            .map(|&id| acc[seen[id as usize] as usize])
            .collect();
        (order, values)
    }

    /// Renumbers live keys densely (same relative order) and drops forgotten ones.
    fn compact(&mut self) {
        let mut remap = vec![u32::MAX; self.meta.len()];
        let mut next = 0u32;
        for (id, meta) in self.meta.iter().enumerate() {
            if meta.refs > 0 {
                remap[id] = next;
                next += 1;
            }
        }
        let live = |id: &usize| remap[*id] != u32::MAX;
        self.keys = match &self.keys {
            Keys::Bytes(old) => {
                let mut dict = BytesDictionary::with_capacity(next as usize);
                for id in (0..remap.len()).filter(live) {
                    dict.intern(old.get(id as u32));
                }
                Keys::Bytes(dict)
            }
            Keys::Ints(old) => {
                let mut dict = I64Dictionary::with_capacity(next as usize);
                for id in (0..remap.len()).filter(live) {
                    dict.intern(old.get(id as u32));
                }
                Keys::Ints(dict)
            }
        };
        self.meta = (0..remap.len())
            .filter(live)
            .map(|id| KeyMeta {
                refs: self.meta[id].refs,
                ..KeyMeta::default()
            })
            .collect();
        self.key_seqs = (0..remap.len())
            .filter(live)
            .map(|id| self.key_seqs[id])
            .collect();
        self.key_hashes = (0..remap.len())
            .filter(live)
            .map(|id| self.key_hashes[id])
            .collect();
        if self.op.is_invertible() {
            self.running = (0..remap.len())
                .filter(live)
                .map(|id| self.running[id])
                .collect();
        }
        for pane in self.panes.values_mut() {
            for entry in &mut pane.entries {
                entry.key = remap[entry.key as usize];
            }
        }
        self.generation = 1;
        self.active = None;
    }

    /// The state as canonical snapshot bytes (format version 1, little-endian).
    pub fn snapshot(&self) -> Vec<u8> {
        let invertible = self.op.is_invertible();
        let mut canonical = vec![u32::MAX; self.meta.len()];
        let mut live_ids = Vec::with_capacity(self.live);
        for (id, meta) in self.meta.iter().enumerate() {
            if meta.refs > 0 {
                canonical[id] = live_ids.len() as u32;
                live_ids.push(id as u32);
            }
        }
        let mut out = Vec::with_capacity(64 + self.memory_bytes() / 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.push(self.op.code());
        out.push(self.kind.code());
        out.extend_from_slice(&self.window_ms.to_le_bytes());
        out.extend_from_slice(&self.slide_ms.to_le_bytes());
        out.extend_from_slice(&self.evicted_through.to_le_bytes());
        let (has_run, run_lo, run_hi) = match self.run {
            Some((lo, hi)) => (1u8, lo, hi),
            None => (0, 0, 0),
        };
        out.push(has_run);
        out.extend_from_slice(&run_lo.to_le_bytes());
        out.extend_from_slice(&run_hi.to_le_bytes());
        out.extend_from_slice(&(live_ids.len() as u32).to_le_bytes());
        match &self.keys {
            Keys::Bytes(dict) => {
                for &id in &live_ids {
                    let key = dict.get(id);
                    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
                    out.extend_from_slice(key);
                }
            }
            Keys::Ints(dict) => {
                for &id in &live_ids {
                    out.extend_from_slice(&dict.get(id).to_le_bytes());
                }
            }
        }
        if invertible {
            for &id in &live_ids {
                let acc = &self.running[id as usize];
                out.extend_from_slice(&acc.count.to_le_bytes());
                out.extend_from_slice(&canonical_bits(acc.value).to_le_bytes());
                out.extend_from_slice(&acc.nans.to_le_bytes());
                out.extend_from_slice(&acc.pos_infs.to_le_bytes());
                out.extend_from_slice(&acc.neg_infs.to_le_bytes());
            }
        }
        out.extend_from_slice(&(self.panes.len() as u32).to_le_bytes());
        for (&pane_id, pane) in &self.panes {
            out.extend_from_slice(&pane_id.to_le_bytes());
            out.extend_from_slice(&(pane.entries.len() as u32).to_le_bytes());
            for entry in &pane.entries {
                out.extend_from_slice(&canonical[entry.key as usize].to_le_bytes());
                out.extend_from_slice(&entry.count.to_le_bytes());
                out.extend_from_slice(&canonical_bits(entry.value).to_le_bytes());
                if invertible {
                    out.extend_from_slice(&entry.nans.to_le_bytes());
                    out.extend_from_slice(&entry.pos_infs.to_le_bytes());
                    out.extend_from_slice(&entry.neg_infs.to_le_bytes());
                }
            }
        }
        out
    }

    /// Replaces the state with a snapshot taken from an aggregator with the same op, key kind,
    /// window and slide (by either engine).
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), EngineError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err(corrupt("it does not start with the SLWA magic bytes"));
        }
        let version = r.u16()?;
        if version != VERSION {
            return Err(corrupt(&format!(
                "format version {version} is not supported (this build reads version {VERSION})"
            )));
        }
        let op = AggOp::from_code(r.u8()?).ok_or_else(|| corrupt("unknown op code"))?;
        let kind = match r.u8()? {
            0 => KeyKind::Utf8,
            1 => KeyKind::I64,
            _ => return Err(corrupt("unknown key kind")),
        };
        let (window_ms, slide_ms) = (r.u64()?, r.u64()?);
        if (op, kind, window_ms, slide_ms) != (self.op, self.kind, self.window_ms, self.slide_ms) {
            return Err(EngineError::InvalidSnapshot(format!(
                "it holds a {} window over {} keys of {window_ms} ms sliding by {slide_ms} ms, but this aggregator is a {} window over {} keys of {} ms sliding by {} ms",
                op.name(),
                kind.name(),
                self.op.name(),
                self.kind.name(),
                self.window_ms,
                self.slide_ms
            )));
        }
        let mut fresh = WindowAggregator::new(op, window_ms, slide_ms, kind)?;
        fresh.evicted_through = r.i64()?;
        let has_run = r.u8()?;
        let (run_lo, run_hi) = (r.i64()?, r.i64()?);
        fresh.run = match has_run {
            0 => None,
            1 => Some((run_lo, run_hi)),
            _ => return Err(corrupt("bad running-window flag")),
        };
        let key_count = r.u32()? as usize;
        let invertible = op.is_invertible();
        for _ in 0..key_count {
            let (is_new, hash) = match &mut fresh.keys {
                Keys::Bytes(dict) => {
                    let len = r.u32()? as usize;
                    let key = r.take(len)?;
                    (dict.intern(key).1, murmur3_32(key, 0))
                }
                Keys::Ints(dict) => {
                    let key = r.i64()?;
                    (dict.intern(key).1, murmur3_i64(key, 0))
                }
            };
            fresh.key_hashes.push(hash);
            if !is_new {
                return Err(corrupt("a key appears twice"));
            }
            fresh.key_seqs.push(fresh.meta.len() as u64);
            fresh.meta.push(KeyMeta::default());
            if invertible {
                fresh.running.push(Acc::default());
            }
        }
        if invertible {
            for acc in &mut fresh.running {
                acc.count = r.u64()?;
                acc.value = f64::from_bits(r.u64()?);
                acc.nans = r.u32()?;
                acc.pos_infs = r.u32()?;
                acc.neg_infs = r.u32()?;
            }
        }
        let pane_count = r.u32()?;
        let mut last_pane = fresh.evicted_through;
        for _ in 0..pane_count {
            let pane_id = r.i64()?;
            if pane_id <= last_pane {
                return Err(corrupt("panes are out of order or already evicted"));
            }
            last_pane = pane_id;
            let entries = r.u32()? as usize;
            let mut pane = Pane::default();
            fresh.generation += 1;
            for _ in 0..entries {
                let id = r.u32()?;
                if id as usize >= key_count {
                    return Err(corrupt("a pane names a key that does not exist"));
                }
                let meta = &mut fresh.meta[id as usize];
                if meta.stamp == fresh.generation {
                    return Err(corrupt("a pane holds the same key twice"));
                }
                meta.stamp = fresh.generation;
                meta.refs += 1;
                let slot = pane.push(id, 0.0);
                let entry = &mut pane.entries[slot];
                entry.count = r.u64()?;
                entry.value = f64::from_bits(r.u64()?);
                if invertible {
                    entry.nans = r.u32()?;
                    entry.pos_infs = r.u32()?;
                    entry.neg_infs = r.u32()?;
                }
            }
            fresh.pane_bytes += pane.memory_bytes();
            fresh.panes.insert(pane_id, pane);
        }
        if r.at != bytes.len() {
            return Err(corrupt("bytes are left after the last pane"));
        }
        if fresh.meta.iter().any(|m| m.refs == 0) {
            return Err(corrupt("a key is held by no pane"));
        }
        fresh.live = key_count;
        // Rows added later come after every key and pane entry restored.
        fresh.next_seq =
            (key_count + fresh.panes.values().map(|p| p.entries.len()).sum::<usize>()) as u64;
        fresh.meta.iter_mut().for_each(|m| m.stamp = 0);
        fresh.generation = 1;
        *self = fresh;
        Ok(())
    }
}

fn add_pane(running: &mut [Acc], pane: &Pane) {
    for entry in &pane.entries {
        running[entry.key as usize].add(entry);
    }
}

fn subtract_pane(running: &mut [Acc], pane: &Pane) {
    for entry in &pane.entries {
        running[entry.key as usize].subtract(entry);
    }
}

fn corrupt(what: &str) -> EngineError {
    EngineError::InvalidSnapshot(format!("the snapshot is corrupt: {what}"))
}

fn check_time(name: &'static str, time_ms: u64) -> Result<(), EngineError> {
    if time_ms > MAX_TIME_MS {
        return Err(EngineError::InvalidArgument {
            name,
            reason: format!("must be from 0 to 2^53 - 1 ms, got {time_ms}"),
        });
    }
    Ok(())
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EngineError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| corrupt("it ends too early"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EngineError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, EngineError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, EngineError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, EngineError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, EngineError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, EngineError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn emit(agg: &mut WindowAggregator, end: u64) -> Vec<(i64, f64)> {
        let out = agg.emit_i64(end).unwrap();
        out.keys.into_iter().zip(out.values).collect()
    }

    #[test]
    fn sums_a_sliding_window_incrementally() {
        // Window 3 s sliding by 1 s, batches every second.
        let mut agg = WindowAggregator::new(AggOp::Sum, 3000, 1000, KeyKind::I64).unwrap();
        agg.add_i64(1000, &[1, 2], &[1.0, 10.0]).unwrap();
        assert_eq!(emit(&mut agg, 1000), vec![(1, 1.0), (2, 10.0)]);
        agg.add_i64(2000, &[1], &[2.0]).unwrap();
        assert_eq!(emit(&mut agg, 2000), vec![(1, 3.0), (2, 10.0)]);
        agg.add_i64(3000, &[3], &[5.0]).unwrap();
        assert_eq!(emit(&mut agg, 3000), vec![(1, 3.0), (2, 10.0), (3, 5.0)]);
        agg.evict(1000).unwrap();
        assert_eq!(agg.live_keys(), 2);
        // Key 2 left every pane and was forgotten: it comes back after key 3.
        agg.add_i64(4000, &[2], &[7.0]).unwrap();
        assert_eq!(emit(&mut agg, 4000), vec![(1, 2.0), (3, 5.0), (2, 7.0)]);
        agg.evict(4000).unwrap();
        assert_eq!(agg.live_keys(), 0);
        assert_eq!(emit(&mut agg, 6000), vec![]);
    }

    #[test]
    fn recomputes_min_and_counts_non_finite_values_apart() {
        let mut agg = WindowAggregator::new(AggOp::Min, 2000, 1000, KeyKind::I64).unwrap();
        agg.add_i64(1000, &[1, 1], &[3.0, -0.0]).unwrap();
        agg.add_i64(2000, &[1], &[0.0]).unwrap();
        let out = emit(&mut agg, 2000);
        assert!(out[0].1 == 0.0 && out[0].1.is_sign_negative());
        assert_eq!(emit(&mut agg, 3000), vec![(1, 0.0)]);

        let mut sum = WindowAggregator::new(AggOp::Sum, 2000, 1000, KeyKind::I64).unwrap();
        sum.add_i64(1000, &[1], &[f64::INFINITY]).unwrap();
        sum.add_i64(2000, &[1], &[1.0]).unwrap();
        assert_eq!(emit(&mut sum, 2000), vec![(1, f64::INFINITY)]);
        assert_eq!(emit(&mut sum, 3000), vec![(1, 1.0)]);
    }

    #[test]
    fn rejects_late_data_unaligned_ends_and_the_wrong_key_kind() {
        let mut agg = WindowAggregator::new(AggOp::Count, 3000, 2000, KeyKind::Utf8).unwrap();
        assert_eq!(agg.pane_ms(), 1000);
        agg.evict(2000).unwrap();
        let keys = KeyColumn::new(b"a", &[0, 1]).unwrap();
        assert!(agg.add_bytes(2000, keys, &[]).is_err());
        assert!(agg.add_bytes(2001, keys, &[]).is_ok());
        assert!(agg.emit_bytes(2500).is_err());
        assert!(agg.add_i64(5000, &[1], &[]).is_err());
        assert!(WindowAggregator::new(AggOp::Sum, 0, 1, KeyKind::I64).is_err());
    }

    #[test]
    fn snapshots_round_trip_and_reject_mismatches() {
        let mut agg = WindowAggregator::new(AggOp::Mean, 3000, 1000, KeyKind::Utf8).unwrap();
        let keys = KeyColumn::new("abé".as_bytes(), &[0, 1, 2, 4]).unwrap();
        agg.add_bytes(1000, keys, &[1.0, f64::NAN, 3.0]).unwrap();
        emit_bytes_ok(&mut agg, 1000);
        agg.add_bytes(2000, keys, &[1.0, 2.0, -0.0]).unwrap();
        let bytes = agg.snapshot();
        let mut copy = WindowAggregator::new(AggOp::Mean, 3000, 1000, KeyKind::Utf8).unwrap();
        copy.restore(&bytes).unwrap();
        assert_eq!(copy.snapshot(), bytes);
        let a = agg.emit_bytes(3000).unwrap();
        let b = copy.emit_bytes(3000).unwrap();
        assert_eq!(a.keys, b.keys);
        assert_eq!(
            a.values
                .iter()
                .map(|v| canonical_bits(*v))
                .collect::<Vec<_>>(),
            b.values
                .iter()
                .map(|v| canonical_bits(*v))
                .collect::<Vec<_>>()
        );
        let mut other = WindowAggregator::new(AggOp::Sum, 3000, 1000, KeyKind::Utf8).unwrap();
        assert_eq!(
            other.restore(&bytes).unwrap_err().code(),
            "SLUICE_NATIVE_INVALID_SNAPSHOT"
        );
        assert!(copy.restore(&bytes[..bytes.len() - 1]).is_err());
        assert!(copy.restore(b"nope").is_err());
    }

    fn emit_bytes_ok(agg: &mut WindowAggregator, end: u64) {
        agg.emit_bytes(end).unwrap();
    }

    proptest! {
        /// The incremental window equals a direct recomputation (integer values keep sums exact).
        #[test]
        fn incremental_windows_match_recomputation(
            batches in proptest::collection::vec(proptest::collection::vec((0i64..12, -50i32..50), 0..20), 1..25),
            panes_per_window in 1u64..6,
            panes_per_slide in 1u64..4,
            op in prop_oneof![Just(AggOp::Sum), Just(AggOp::Count), Just(AggOp::Min), Just(AggOp::Max), Just(AggOp::Mean)],
        ) {
            let pane = 100u64;
            let (window, slide) = (pane * panes_per_window * panes_per_slide, pane * panes_per_slide);
            let mut agg = WindowAggregator::new(op, window, slide, KeyKind::I64).unwrap();
            let p = agg.pane_ms();
            let mut history: Vec<(u64, i64, f64)> = Vec::new();
            for (i, batch) in batches.iter().enumerate() {
                let t = (i as u64 + 1) * p;
                let keys: Vec<i64> = batch.iter().map(|b| b.0).collect();
                let values: Vec<f64> = batch.iter().map(|b| f64::from(b.1)).collect();
                agg.add_i64(t, &keys, &values).unwrap();
                history.extend(batch.iter().map(|&(k, v)| (t, k, f64::from(v))));
                if !t.is_multiple_of(slide) {
                    continue;
                }
                let got = emit(&mut agg, t);
                let start = t.saturating_sub(window);
                let mut order: Vec<i64> = Vec::new();
                let mut expected: Vec<(i64, Vec<f64>)> = Vec::new();
                for &(time, k, v) in &history {
                    if time > start && time <= t {
                        match order.iter().position(|&o| o == k) {
                            Some(at) => expected[at].1.push(v),
                            None => { order.push(k); expected.push((k, vec![v])); }
                        }
                    }
                }
                let expected: Vec<(i64, f64)> = expected.into_iter().map(|(k, vs)| {
                    let sum: f64 = vs.iter().sum();
                    (k, match op {
                        AggOp::Sum => sum,
                        AggOp::Count => vs.len() as f64,
                        AggOp::Min => vs.iter().copied().fold(f64::INFINITY, js_min),
                        AggOp::Max => vs.iter().copied().fold(f64::NEG_INFINITY, js_max),
                        AggOp::Mean => sum / vs.len() as f64,
                    })
                }).collect();
                let mut sorted_got = got.clone();
                sorted_got.sort_by_key(|e| e.0);
                let mut sorted_expected = expected.clone();
                sorted_expected.sort_by_key(|e| e.0);
                prop_assert_eq!(sorted_got, sorted_expected);
                if t > window {
                    agg.evict(t + slide - window).unwrap();
                }
                prop_assert_eq!(agg.pane_bytes, agg.panes.values().map(Pane::memory_bytes).sum::<usize>());
                let snap = agg.snapshot();
                let mut copy = WindowAggregator::new(op, window, slide, KeyKind::I64).unwrap();
                copy.restore(&snap).unwrap();
                prop_assert_eq!(copy.snapshot(), snap);
            }
        }
    }
}
