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
use crate::reduce::{BytesGroups, I64Groups};
use crate::EngineError;

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

/// One pane: an entry per key, in the order keys first reached the pane.
#[derive(Debug, Clone, Default)]
struct Pane {
    keys: Vec<u32>,
    counts: Vec<u64>,
    /// Sum of the finite values (invertible ops) or the min / max so far.
    values: Vec<f64>,
    nans: Vec<u32>,
    pos_infs: Vec<u32>,
    neg_infs: Vec<u32>,
}

impl Pane {
    fn push(&mut self, key: u32, first: f64, invertible: bool) -> usize {
        self.keys.push(key);
        self.counts.push(0);
        self.values.push(first);
        if invertible {
            self.nans.push(0);
            self.pos_infs.push(0);
            self.neg_infs.push(0);
        }
        self.keys.len() - 1
    }

    fn memory_bytes(&self) -> usize {
        self.keys.capacity() * 4
            + self.counts.capacity() * 8
            + self.values.capacity() * 8
            + (self.nans.capacity() + self.pos_infs.capacity() + self.neg_infs.capacity()) * 4
    }
}

/// The current window's value per key id (invertible ops only).
#[derive(Debug, Clone, Default)]
struct Running {
    counts: Vec<u64>,
    sums: Vec<f64>,
    nans: Vec<u32>,
    pos_infs: Vec<u32>,
    neg_infs: Vec<u32>,
}

impl Running {
    fn push_key(&mut self) {
        self.counts.push(0);
        self.sums.push(0.0);
        self.nans.push(0);
        self.pos_infs.push(0);
        self.neg_infs.push(0);
    }

    fn clear(&mut self) {
        self.counts.fill(0);
        self.sums.fill(0.0);
        self.nans.fill(0);
        self.pos_infs.fill(0);
        self.neg_infs.fill(0);
    }

    #[inline]
    fn add_value(&mut self, id: usize, value: f64) {
        self.counts[id] += 1;
        classify(
            value,
            &mut self.sums[id],
            &mut self.nans[id],
            &mut self.pos_infs[id],
            &mut self.neg_infs[id],
        );
    }

    fn add_pane(&mut self, pane: &Pane) {
        for (slot, &key) in pane.keys.iter().enumerate() {
            let id = key as usize;
            self.counts[id] += pane.counts[slot];
            self.sums[id] += pane.values[slot];
            self.nans[id] += pane.nans[slot];
            self.pos_infs[id] += pane.pos_infs[slot];
            self.neg_infs[id] += pane.neg_infs[slot];
        }
    }

    fn subtract_pane(&mut self, pane: &Pane) {
        for (slot, &key) in pane.keys.iter().enumerate() {
            let id = key as usize;
            self.counts[id] -= pane.counts[slot];
            if self.counts[id] == 0 {
                // Nothing of this key is left: restart from +0 so rounding residue never leaks.
                self.sums[id] = 0.0;
                self.nans[id] = 0;
                self.pos_infs[id] = 0;
                self.neg_infs[id] = 0;
            } else {
                self.sums[id] -= pane.values[slot];
                self.nans[id] -= pane.nans[slot];
                self.pos_infs[id] -= pane.pos_infs[slot];
                self.neg_infs[id] -= pane.neg_infs[slot];
            }
        }
    }

    /// The window sum of key `id`: NaN if a NaN or both infinities are in, else the infinity,
    /// else the finite sum.
    fn sum(&self, id: usize) -> f64 {
        let (nan, pos, neg) = (self.nans[id], self.pos_infs[id], self.neg_infs[id]);
        if nan > 0 || (pos > 0 && neg > 0) {
            f64::NAN
        } else if pos > 0 {
            f64::INFINITY
        } else if neg > 0 {
            f64::NEG_INFINITY
        } else {
            self.sums[id]
        }
    }

    fn memory_bytes(&self) -> usize {
        self.counts.capacity() * 8 + self.sums.capacity() * 8 + self.nans.capacity() * 12
    }
}

#[inline]
fn classify(value: f64, sum: &mut f64, nans: &mut u32, pos: &mut u32, neg: &mut u32) {
    if value.is_finite() {
        *sum += value;
    } else if value.is_nan() {
        *nans += 1;
    } else if value > 0.0 {
        *pos += 1;
    } else {
        *neg += 1;
    }
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
    /// Per key id: how many panes hold the key (0 = forgotten).
    refs: Vec<u32>,
    live: usize,
    panes: BTreeMap<i64, Pane>,
    /// Panes with ids up to this one were evicted (-1: none).
    evicted_through: i64,
    running: Running,
    /// The pane range `running` holds, once an emit has set it.
    run: Option<(i64, i64)>,
    /// The pane being filled and where each of its keys sits (`stamps[id] == generation`).
    active: Option<i64>,
    stamps: Vec<u32>,
    slots: Vec<u32>,
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
            refs: Vec::new(),
            live: 0,
            panes: BTreeMap::new(),
            evicted_through: -1,
            running: Running::default(),
            run: None,
            active: None,
            stamps: Vec::new(),
            slots: Vec::new(),
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
        if keys.is_empty() {
            return Ok(());
        }
        let reads_values = self.op.reads_values();
        let mut pane = self.panes.remove(&pane_id).unwrap_or_default();
        self.activate(pane_id, &pane);
        let mut keys_dict = std::mem::replace(&mut self.keys, Keys::new(self.kind));
        let Keys::Bytes(dict) = &mut keys_dict else {
            unreachable!("kind checked")
        };
        let in_run = self.in_run(pane_id);
        for (row, key) in keys.iter().enumerate() {
            let (id, is_new) = dict.intern(key);
            let value = if reads_values { values[row] } else { 0.0 };
            self.accumulate(&mut pane, id, is_new, value, in_run);
        }
        self.keys = keys_dict;
        self.panes.insert(pane_id, pane);
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
        if keys.is_empty() {
            return Ok(());
        }
        let reads_values = self.op.reads_values();
        let mut pane = self.panes.remove(&pane_id).unwrap_or_default();
        self.activate(pane_id, &pane);
        let mut keys_dict = std::mem::replace(&mut self.keys, Keys::new(self.kind));
        let Keys::Ints(dict) = &mut keys_dict else {
            unreachable!("kind checked")
        };
        let in_run = self.in_run(pane_id);
        for (row, &key) in keys.iter().enumerate() {
            let (id, is_new) = dict.intern(key);
            let value = if reads_values { values[row] } else { 0.0 };
            self.accumulate(&mut pane, id, is_new, value, in_run);
        }
        self.keys = keys_dict;
        self.panes.insert(pane_id, pane);
        Ok(())
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
            if invertible && self.in_run(*pane_id) {
                self.running.subtract_pane(pane);
            }
            if self.active == Some(*pane_id) {
                self.active = None;
            }
            for &id in &pane.keys {
                let refs = &mut self.refs[id as usize];
                *refs -= 1;
                if *refs == 0 {
                    self.keys.forget(id);
                    self.live -= 1;
                }
            }
        }
        if let Some((lo, hi)) = self.run {
            if lo <= through {
                self.run = Some((through + 1, hi));
            }
        }
        self.evicted_through = through;
        let dead = self.refs.len() - self.live;
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
            + self.refs.capacity() * 4
            + self.stamps.capacity() * 4
            + self.slots.capacity() * 4
            + self.running.memory_bytes()
            + self
                .panes
                .values()
                .map(|p| p.memory_bytes() + 48)
                .sum::<usize>()
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
            self.stamps.fill(0);
            self.generation = 1;
        }
        for (slot, &id) in pane.keys.iter().enumerate() {
            self.stamps[id as usize] = self.generation;
            self.slots[id as usize] = slot as u32;
        }
        self.active = Some(pane_id);
    }

    #[inline(always)]
    fn accumulate(&mut self, pane: &mut Pane, id: u32, is_new: bool, value: f64, in_run: bool) {
        let invertible = self.op.is_invertible();
        if is_new {
            self.refs.push(0);
            self.stamps.push(0);
            self.slots.push(0);
            if invertible {
                self.running.push_key();
            }
        }
        let idx = id as usize;
        let slot = if self.stamps[idx] == self.generation {
            self.slots[idx] as usize
        } else {
            let first = if invertible { 0.0 } else { value };
            let slot = pane.push(id, first, invertible);
            self.stamps[idx] = self.generation;
            self.slots[idx] = slot as u32;
            self.refs[idx] += 1;
            if self.refs[idx] == 1 {
                self.live += 1;
            }
            slot
        };
        pane.counts[slot] += 1;
        match self.op {
            AggOp::Min => pane.values[slot] = js_min(pane.values[slot], value),
            AggOp::Max => pane.values[slot] = js_max(pane.values[slot], value),
            _ => {
                classify(
                    value,
                    &mut pane.values[slot],
                    &mut pane.nans[slot],
                    &mut pane.pos_infs[slot],
                    &mut pane.neg_infs[slot],
                );
                if in_run {
                    self.running.add_value(idx, value);
                }
            }
        }
    }

    /// The ids and values of the window ending at `window_end_ms`, in id order.
    fn emit_ids(&mut self, window_end_ms: u64) -> Result<(Vec<u32>, Vec<f64>), EngineError> {
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
        if self.op.is_invertible() {
            Ok(self.emit_running(lo, hi))
        } else {
            Ok(self.emit_recomputed(lo, hi))
        }
    }

    fn emit_running(&mut self, lo: i64, hi: i64) -> (Vec<u32>, Vec<f64>) {
        match self.run {
            Some((run_lo, run_hi)) if lo >= run_lo && hi >= run_hi => {
                let leave_hi = (lo - 1).min(run_hi);
                if run_lo <= leave_hi {
                    for pane in self.panes.range(run_lo..=leave_hi).map(|(_, p)| p) {
                        self.running.subtract_pane(pane);
                    }
                }
                let enter_lo = (run_hi + 1).max(lo);
                if enter_lo <= hi {
                    for pane in self.panes.range(enter_lo..=hi).map(|(_, p)| p) {
                        self.running.add_pane(pane);
                    }
                }
            }
            _ => {
                self.running.clear();
                if lo <= hi {
                    for pane in self.panes.range(lo..=hi).map(|(_, p)| p) {
                        self.running.add_pane(pane);
                    }
                }
            }
        }
        self.run = Some((lo, hi));
        let mut ids = Vec::new();
        let mut values = Vec::new();
        for (id, &count) in self.running.counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            ids.push(id as u32);
            values.push(match self.op {
                AggOp::Count => count as f64,
                AggOp::Sum => self.running.sum(id),
                _ => self.running.sum(id) / count as f64,
            });
        }
        (ids, values)
    }

    fn emit_recomputed(&mut self, lo: i64, hi: i64) -> (Vec<u32>, Vec<f64>) {
        let mut seen = vec![u32::MAX; self.refs.len()];
        let mut ids: Vec<u32> = Vec::new();
        let mut acc: Vec<f64> = Vec::new();
        if lo <= hi {
            for pane in self.panes.range(lo..=hi).map(|(_, p)| p) {
                for (slot, &id) in pane.keys.iter().enumerate() {
                    let value = pane.values[slot];
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
        let mut remap = vec![u32::MAX; self.refs.len()];
        let mut next = 0u32;
        for (id, &refs) in self.refs.iter().enumerate() {
            if refs > 0 {
                remap[id] = next;
                next += 1;
            }
        }
        self.keys = match &self.keys {
            Keys::Bytes(old) => {
                let mut dict = BytesDictionary::with_capacity(next as usize);
                for (id, &to) in remap.iter().enumerate() {
                    if to != u32::MAX {
                        dict.intern(old.get(id as u32));
                    }
                }
                Keys::Bytes(dict)
            }
            Keys::Ints(old) => {
                let mut dict = I64Dictionary::with_capacity(next as usize);
                for (id, &to) in remap.iter().enumerate() {
                    if to != u32::MAX {
                        dict.intern(old.get(id as u32));
                    }
                }
                Keys::Ints(dict)
            }
        };
        let keep = |v: &Vec<u32>| -> Vec<u32> {
            v.iter()
                .enumerate()
                .filter(|(id, _)| remap[*id] != u32::MAX)
                .map(|(_, &x)| x)
                .collect()
        };
        self.refs = keep(&self.refs);
        if self.op.is_invertible() {
            let r = &self.running;
            let live = |id: usize| remap[id] != u32::MAX;
            self.running = Running {
                counts: (0..r.counts.len())
                    .filter(|&i| live(i))
                    .map(|i| r.counts[i])
                    .collect(),
                sums: (0..r.sums.len())
                    .filter(|&i| live(i))
                    .map(|i| r.sums[i])
                    .collect(),
                nans: keep(&r.nans),
                pos_infs: keep(&r.pos_infs),
                neg_infs: keep(&r.neg_infs),
            };
        }
        for pane in self.panes.values_mut() {
            for key in &mut pane.keys {
                *key = remap[*key as usize];
            }
        }
        self.stamps = vec![0; next as usize];
        self.slots = vec![0; next as usize];
        self.generation = 1;
        self.active = None;
    }

    /// The state as canonical snapshot bytes (format version 1, little-endian).
    pub fn snapshot(&self) -> Vec<u8> {
        let invertible = self.op.is_invertible();
        let mut canonical = vec![u32::MAX; self.refs.len()];
        let mut live_ids = Vec::with_capacity(self.live);
        for (id, &refs) in self.refs.iter().enumerate() {
            if refs > 0 {
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
            let r = &self.running;
            for &id in &live_ids {
                let id = id as usize;
                out.extend_from_slice(&r.counts[id].to_le_bytes());
                out.extend_from_slice(&canonical_bits(r.sums[id]).to_le_bytes());
                out.extend_from_slice(&r.nans[id].to_le_bytes());
                out.extend_from_slice(&r.pos_infs[id].to_le_bytes());
                out.extend_from_slice(&r.neg_infs[id].to_le_bytes());
            }
        }
        out.extend_from_slice(&(self.panes.len() as u32).to_le_bytes());
        for (&pane_id, pane) in &self.panes {
            out.extend_from_slice(&pane_id.to_le_bytes());
            out.extend_from_slice(&(pane.keys.len() as u32).to_le_bytes());
            for (slot, &id) in pane.keys.iter().enumerate() {
                out.extend_from_slice(&canonical[id as usize].to_le_bytes());
                out.extend_from_slice(&pane.counts[slot].to_le_bytes());
                out.extend_from_slice(&canonical_bits(pane.values[slot]).to_le_bytes());
                if invertible {
                    out.extend_from_slice(&pane.nans[slot].to_le_bytes());
                    out.extend_from_slice(&pane.pos_infs[slot].to_le_bytes());
                    out.extend_from_slice(&pane.neg_infs[slot].to_le_bytes());
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
            let is_new = match &mut fresh.keys {
                Keys::Bytes(dict) => {
                    let len = r.u32()? as usize;
                    dict.intern(r.take(len)?).1
                }
                Keys::Ints(dict) => dict.intern(r.i64()?).1,
            };
            if !is_new {
                return Err(corrupt("a key appears twice"));
            }
            fresh.refs.push(0);
            fresh.stamps.push(0);
            fresh.slots.push(0);
            if invertible {
                fresh.running.push_key();
            }
        }
        if invertible {
            for id in 0..key_count {
                let run = &mut fresh.running;
                run.counts[id] = r.u64()?;
                run.sums[id] = f64::from_bits(r.u64()?);
                run.nans[id] = r.u32()?;
                run.pos_infs[id] = r.u32()?;
                run.neg_infs[id] = r.u32()?;
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
                if fresh.stamps[id as usize] == fresh.generation {
                    return Err(corrupt("a pane holds the same key twice"));
                }
                fresh.stamps[id as usize] = fresh.generation;
                let slot = pane.push(id, 0.0, invertible);
                pane.counts[slot] = r.u64()?;
                pane.values[slot] = f64::from_bits(r.u64()?);
                if invertible {
                    pane.nans[slot] = r.u32()?;
                    pane.pos_infs[slot] = r.u32()?;
                    pane.neg_infs[slot] = r.u32()?;
                }
                fresh.refs[id as usize] += 1;
            }
            fresh.panes.insert(pane_id, pane);
        }
        if r.at != bytes.len() {
            return Err(corrupt("bytes are left after the last pane"));
        }
        if fresh.refs.contains(&0) {
            return Err(corrupt("a key is held by no pane"));
        }
        fresh.live = key_count;
        fresh.stamps.fill(0);
        fresh.generation = 1;
        *self = fresh;
        Ok(())
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
                let snap = agg.snapshot();
                let mut copy = WindowAggregator::new(op, window, slide, KeyKind::I64).unwrap();
                copy.restore(&snap).unwrap();
                prop_assert_eq!(copy.snapshot(), snap);
            }
        }
    }
}
