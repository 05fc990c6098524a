use napi::bindgen_prelude::{BigInt64Array, Float64Array, ObjectFinalize, Uint32Array, Uint8Array};
use napi::Env;
use napi_derive::napi;
use sluice_engine::columns::KeyColumn;
use sluice_engine::window::{self, KeyKind};
use sluice_engine::AggOp;

use crate::errors::to_napi;
use crate::reduce::{I64KeyGroups, Utf8Groups};

/// Sliding-window state for one keyed stream, living across batches, its keys optionally split
/// into shards by hash that each call updates in parallel. Its memory is reported to V8
/// (`adjust_external_memory`) so the garbage collector sees it.
#[napi(custom_finalize)]
pub struct WindowAggregator {
    inner: window::ShardedWindowAggregator,
    reported: i64,
}

fn time(name: &'static str, value: i64) -> napi::Result<u64, String> {
    u64::try_from(value).map_err(|_| {
        to_napi(sluice_engine::EngineError::InvalidArgument {
            name,
            reason: format!("must be from 0 to 2^53 - 1 ms, got {value}"),
        })
    })
}

#[napi]
impl WindowAggregator {
    /// A window aggregator for `op` over windows of `windowMs` sliding by `slideMs`, its keys
    /// in `shards` shards by `murmur3(key) % shards` (default 1).
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "'sum' | 'count' | 'min' | 'max' | 'mean'")] op: String,
        window_ms: i64,
        slide_ms: i64,
        #[napi(ts_arg_type = "'utf8' | 'i64'")] key_kind: String,
        shards: Option<u32>,
    ) -> napi::Result<Self, String> {
        let op = AggOp::parse(&op).map_err(to_napi)?;
        let kind = KeyKind::parse(&key_kind).map_err(to_napi)?;
        let inner = window::ShardedWindowAggregator::new(
            op,
            time("windowMs", window_ms)?,
            time("slideMs", slide_ms)?,
            kind,
            shards.unwrap_or(1),
        )
        .map_err(to_napi)?;
        let mut this = Self { inner, reported: 0 };
        this.report(&env);
        Ok(this)
    }

    /// The pane length in milliseconds: gcd(windowMs, slideMs).
    #[napi(getter, catch_unwind)]
    pub fn pane_ms(&self) -> f64 {
        self.inner.pane_ms() as f64
    }

    /// Approximate bytes of memory the aggregator holds.
    #[napi(getter, catch_unwind)]
    pub fn memory_bytes(&self) -> f64 {
        self.inner.memory_bytes() as f64
    }

    /// Adds a batch of UTF-8 keys (blob + offsets) with one value each (none for count).
    #[napi(catch_unwind)]
    pub fn add_utf8(
        &mut self,
        env: Env,
        time_ms: i64,
        keys: &[u8],
        offsets: &[u32],
        values: &[f64],
    ) -> napi::Result<(), String> {
        let column = KeyColumn::new(keys, offsets).map_err(to_napi)?;
        let result = self
            .inner
            .add_bytes(time("timeMs", time_ms)?, column, values)
            .map_err(to_napi);
        self.report(&env);
        result
    }

    /// Adds the parts of a batch of UTF-8 keys one after the other, as one batch: part `i` is
    /// `keys[i]` + `offsets[i]` with `values[i]`. Parts placed by key hash (a shuffle's output
    /// partitions, as many as the shards) are added side by side.
    #[napi(catch_unwind)]
    pub fn add_utf8_parts(
        &mut self,
        env: Env,
        time_ms: i64,
        keys: Vec<Uint8Array>,
        offsets: Vec<Uint32Array>,
        values: Vec<Float64Array>,
    ) -> napi::Result<(), String> {
        if keys.len() != offsets.len() || keys.len() != values.len() {
            return Err(to_napi(sluice_engine::EngineError::InvalidArgument {
                name: "keys",
                reason: format!(
                    "keys, offsets and values must have one entry per part; got {}, {} and {}",
                    keys.len(),
                    offsets.len(),
                    values.len()
                ),
            }));
        }
        let mut parts = Vec::with_capacity(keys.len());
        for ((blob, offsets), values) in keys.iter().zip(&offsets).zip(&values) {
            let column = KeyColumn::new(blob, offsets).map_err(to_napi)?;
            parts.push((column, &values[..]));
        }
        let result = self
            .inner
            .add_bytes_parts(time("timeMs", time_ms)?, &parts)
            .map_err(to_napi);
        self.report(&env);
        result
    }

    /// Adds the parts of a batch of 64-bit integer keys one after the other, as one batch.
    #[napi(catch_unwind)]
    pub fn add_i64_parts(
        &mut self,
        env: Env,
        time_ms: i64,
        keys: Vec<BigInt64Array>,
        values: Vec<Float64Array>,
    ) -> napi::Result<(), String> {
        if keys.len() != values.len() {
            return Err(to_napi(sluice_engine::EngineError::InvalidArgument {
                name: "keys",
                reason: format!(
                    "keys and values must have one entry per part; got {} and {}",
                    keys.len(),
                    values.len()
                ),
            }));
        }
        let parts: Vec<(&[i64], &[f64])> = keys
            .iter()
            .zip(&values)
            .map(|(keys, values)| (&keys[..], &values[..]))
            .collect();
        let result = self
            .inner
            .add_i64_parts(time("timeMs", time_ms)?, &parts)
            .map_err(to_napi);
        self.report(&env);
        result
    }

    /// Adds a batch of 64-bit integer keys with one value each (none for count).
    #[napi(catch_unwind)]
    pub fn add_i64(
        &mut self,
        env: Env,
        time_ms: i64,
        keys: &[i64],
        values: &[f64],
    ) -> napi::Result<(), String> {
        let result = self
            .inner
            .add_i64(time("timeMs", time_ms)?, keys, values)
            .map_err(to_napi);
        self.report(&env);
        result
    }

    /// Drops every pane whose data lies at or before `timeMs`.
    #[napi(catch_unwind)]
    pub fn evict(&mut self, env: Env, time_ms: i64) -> napi::Result<(), String> {
        let result = self.inner.evict(time("timeMs", time_ms)?).map_err(to_napi);
        self.report(&env);
        result
    }

    /// Moves the running window to end at `windowEndMs` without building the result.
    #[napi(catch_unwind)]
    pub fn advance(&mut self, window_end_ms: i64) -> napi::Result<(), String> {
        self.inner
            .advance(time("windowEndMs", window_end_ms)?)
            .map_err(to_napi)
    }

    /// The window ending at `windowEndMs` over UTF-8 keys.
    #[napi(catch_unwind)]
    pub fn emit_utf8(&mut self, window_end_ms: i64) -> napi::Result<Utf8Groups, String> {
        self.inner
            .emit_bytes(time("windowEndMs", window_end_ms)?)
            .map(Utf8Groups::from)
            .map_err(to_napi)
    }

    /// The window ending at `windowEndMs` over 64-bit keys.
    #[napi(catch_unwind)]
    pub fn emit_i64(&mut self, window_end_ms: i64) -> napi::Result<I64KeyGroups, String> {
        self.inner
            .emit_i64(time("windowEndMs", window_end_ms)?)
            .map(I64KeyGroups::from)
            .map_err(to_napi)
    }

    /// The window ending at `windowEndMs` over UTF-8 keys, placed into `numPartitions` by
    /// `murmur3(key) % numPartitions`, each partition in emission order.
    #[napi(catch_unwind)]
    pub fn emit_utf8_partitioned(
        &mut self,
        window_end_ms: i64,
        num_partitions: u32,
    ) -> napi::Result<Vec<Utf8Groups>, String> {
        self.inner
            .emit_bytes_partitioned(time("windowEndMs", window_end_ms)?, num_partitions)
            .map(|parts| parts.into_iter().map(Utf8Groups::from).collect())
            .map_err(to_napi)
    }

    /// The window ending at `windowEndMs` over 64-bit keys, placed into `numPartitions`.
    #[napi(catch_unwind)]
    pub fn emit_i64_partitioned(
        &mut self,
        window_end_ms: i64,
        num_partitions: u32,
    ) -> napi::Result<Vec<I64KeyGroups>, String> {
        self.inner
            .emit_i64_partitioned(time("windowEndMs", window_end_ms)?, num_partitions)
            .map(|parts| parts.into_iter().map(I64KeyGroups::from).collect())
            .map_err(to_napi)
    }

    /// The state as canonical, versioned snapshot bytes.
    #[napi(catch_unwind)]
    pub fn snapshot(&self) -> Uint8Array {
        Uint8Array::new(self.inner.snapshot())
    }

    /// Replaces the state with snapshot bytes from an aggregator of the same configuration.
    #[napi(catch_unwind)]
    pub fn restore(&mut self, env: Env, bytes: &[u8]) -> napi::Result<(), String> {
        let result = self.inner.restore(bytes).map_err(to_napi);
        self.report(&env);
        result
    }

    /// Tells V8 how much memory changed since the last report, once the change is large
    /// enough to matter to the garbage collector (≥ 1 MiB or an eighth of what was reported):
    /// reporting every small batch would call into V8 at every slide for nothing.
    fn report(&mut self, env: &Env) {
        let now = self.inner.memory_bytes() as i64;
        let delta = now - self.reported;
        let worth_it =
            delta.abs() >= (1 << 20).max(self.reported / 8) || (now == 0) != (self.reported == 0);
        if delta != 0 && worth_it && env.adjust_external_memory(delta).is_ok() {
            self.reported = now;
        }
    }
}

impl ObjectFinalize for WindowAggregator {
    fn finalize(self, env: Env) -> napi::Result<()> {
        if self.reported != 0 {
            env.adjust_external_memory(-self.reported)?;
        }
        Ok(())
    }
}
