import { SluiceError } from "../errors/sluice-error.js";
import { AGGREGATE_OPS, checkValues } from "./aggregate-op.js";
import { ByteKeyDictionary, grow } from "./byte-key-dictionary.js";
import { checkNumPartitions } from "./check-num-partitions.js";
import { I64KeyDictionary } from "./i64-key-dictionary.js";
import type {
  AggregateOp,
  I64Groups,
  KeyColumn,
  Utf8Groups,
  WindowAggregator,
  WindowGroups,
  WindowKeyKind,
  WindowKeys,
  WindowOptions,
} from "./kernels.js";
import { gatherRows, gatherValues, validateKeyColumn } from "./key-column.js";
import { murmur3 } from "./murmur3.js";
import { corruptSnapshot, SnapshotReader, SnapshotWriter } from "./snapshot-bytes.js";
import { ceilDiv, checkTime, checkWindowOptions, floorDiv, gcd } from "./window-options.js";
import { checkShards } from "./window-shards.js";

// The TypeScript twin of the engine's `window` module: same panes, same running window, same
// key lifetimes, same float operations in the same order, same snapshot bytes. Read the Rust
// module's header for the design; the comments here only mark where the twin must not drift.

const MAGIC = [0x53, 0x4c, 0x57, 0x41]; // "SLWA"
const VERSION = 1;

/** One pane: an entry per key, in the order keys first reached the pane. */
class Pane {
  size = 0;
  keys = new Uint32Array(8);
  counts = new Float64Array(8);
  /** Sum of the finite values (invertible ops) or the min / max so far. */
  values = new Float64Array(8);
  nans = new Uint32Array(8);
  posInfs = new Uint32Array(8);
  negInfs = new Uint32Array(8);

  constructor(readonly id: number) {}

  push(key: number, first: number): number {
    const slot = this.size++;
    if (slot >= this.keys.length) {
      this.keys = grow(this.keys, slot + 1);
      this.counts = grow(this.counts, slot + 1);
      this.values = grow(this.values, slot + 1);
      this.nans = grow(this.nans, slot + 1);
      this.posInfs = grow(this.posInfs, slot + 1);
      this.negInfs = grow(this.negInfs, slot + 1);
    }
    this.keys[slot] = key;
    this.counts[slot] = 0;
    this.values[slot] = first;
    this.nans[slot] = 0;
    this.posInfs[slot] = 0;
    this.negInfs[slot] = 0;
    return slot;
  }

  memoryBytes(): number {
    return this.keys.length * 40 + 64;
  }
}

/** Per-key-id arrays: refs, cursor stamps/slots and the running window. */
class KeyState {
  capacity = 16;
  refs = new Uint32Array(16);
  stamps = new Uint32Array(16);
  slots = new Uint32Array(16);
  runCounts = new Float64Array(16);
  runSums = new Float64Array(16);
  runNans = new Uint32Array(16);
  runPosInfs = new Uint32Array(16);
  runNegInfs = new Uint32Array(16);

  ensure(size: number): void {
    if (size <= this.capacity) return;
    this.refs = grow(this.refs, size);
    this.stamps = grow(this.stamps, size);
    this.slots = grow(this.slots, size);
    this.runCounts = grow(this.runCounts, size);
    this.runSums = grow(this.runSums, size);
    this.runNans = grow(this.runNans, size);
    this.runPosInfs = grow(this.runPosInfs, size);
    this.runNegInfs = grow(this.runNegInfs, size);
    this.capacity = this.refs.length;
  }

  clearRunning(size: number): void {
    this.runCounts.fill(0, 0, size);
    this.runSums.fill(0, 0, size);
    this.runNans.fill(0, 0, size);
    this.runPosInfs.fill(0, 0, size);
    this.runNegInfs.fill(0, 0, size);
  }

  addPane(pane: Pane): void {
    for (let slot = 0; slot < pane.size; slot++) {
      const id = pane.keys[slot] as number;
      this.runCounts[id] = (this.runCounts[id] as number) + (pane.counts[slot] as number);
      this.runSums[id] = (this.runSums[id] as number) + (pane.values[slot] as number);
      this.runNans[id] = (this.runNans[id] as number) + (pane.nans[slot] as number);
      this.runPosInfs[id] = (this.runPosInfs[id] as number) + (pane.posInfs[slot] as number);
      this.runNegInfs[id] = (this.runNegInfs[id] as number) + (pane.negInfs[slot] as number);
    }
  }

  subtractPane(pane: Pane): void {
    for (let slot = 0; slot < pane.size; slot++) {
      const id = pane.keys[slot] as number;
      const count = (this.runCounts[id] as number) - (pane.counts[slot] as number);
      this.runCounts[id] = count;
      if (count === 0) {
        // Nothing of this key is left: restart from +0 so rounding residue never leaks.
        this.runSums[id] = 0;
        this.runNans[id] = 0;
        this.runPosInfs[id] = 0;
        this.runNegInfs[id] = 0;
      } else {
        this.runSums[id] = (this.runSums[id] as number) - (pane.values[slot] as number);
        this.runNans[id] = (this.runNans[id] as number) - (pane.nans[slot] as number);
        this.runPosInfs[id] = (this.runPosInfs[id] as number) - (pane.posInfs[slot] as number);
        this.runNegInfs[id] = (this.runNegInfs[id] as number) - (pane.negInfs[slot] as number);
      }
    }
  }

  /** The window sum: NaN if a NaN or both infinities are in, else the infinity, else the sum. */
  runningSum(id: number): number {
    const nan = this.runNans[id] as number;
    const pos = this.runPosInfs[id] as number;
    const neg = this.runNegInfs[id] as number;
    if (nan > 0 || (pos > 0 && neg > 0)) return Number.NaN;
    if (pos > 0) return Number.POSITIVE_INFINITY;
    if (neg > 0) return Number.NEGATIVE_INFINITY;
    return this.runSums[id] as number;
  }
}

/**
 * Sliding-window state in TypeScript: the twin of the engine's `WindowAggregator`.
 *
 * @example
 * const window = new JsWindowAggregator({ op: "sum", windowMs: 3000, slideMs: 1000, keyKind: "utf8" });
 * window.add(1000, { keys: keyColumnFromStrings(["a"]), values: Float64Array.of(1) });
 * window.emit(1000);
 */
export class JsWindowAggregator<K extends WindowKeyKind> implements WindowAggregator<K> {
  readonly paneMs: number;
  private readonly op: AggregateOp;
  private readonly invertible: boolean;
  private bytesDict: ByteKeyDictionary | null = null;
  private intsDict: I64KeyDictionary | null = null;
  private state = new KeyState();
  private live = 0;
  /** Panes sorted by id. */
  private panes: Pane[] = [];
  private evictedThrough = -1;
  private run: [number, number] | null = null;
  private active: Pane | null = null;
  private generation = 1;

  constructor(private readonly options: WindowOptions<K>) {
    checkWindowOptions(options);
    // One thread here: shards would change nothing but the work, so the twin keeps one.
    checkShards(options.shards);
    this.op = options.op;
    this.invertible = options.op === "sum" || options.op === "count" || options.op === "mean";
    this.paneMs = gcd(options.windowMs, options.slideMs);
    this.resetKeys();
  }

  get memoryBytes(): number {
    const dict = this.bytesDict?.memoryBytes() ?? this.intsDict?.memoryBytes() ?? 0;
    return (
      dict +
      this.state.capacity * 48 +
      this.panes.reduce((sum, pane) => sum + pane.memoryBytes(), 0)
    );
  }

  private get idCount(): number {
    return (this.bytesDict ?? (this.intsDict as I64KeyDictionary)).size;
  }

  private resetKeys(): void {
    if (this.options.keyKind === "utf8") this.bytesDict = new ByteKeyDictionary();
    else this.intsDict = new I64KeyDictionary();
  }

  add(
    timeMs: number,
    batch: { readonly keys: WindowKeys<K>; readonly values: Float64Array },
  ): void {
    this.addParts(timeMs, [batch]);
  }

  addParts(
    timeMs: number,
    parts: ReadonlyArray<{ readonly keys: WindowKeys<K>; readonly values: Float64Array }>,
  ): void {
    // Every part is checked before any is added, as the native engine does.
    for (const part of parts) this.checkPart(part);
    const paneId = this.openPane(timeMs);
    for (const part of parts) this.addPart(paneId, part);
  }

  /** Checks a part's key kind, key column and value count; returns its rows. */
  private checkPart(batch: {
    readonly keys: WindowKeys<K>;
    readonly values: Float64Array;
  }): number {
    const { keys, values } = batch;
    const utf8 = this.options.keyKind === "utf8";
    if (utf8 !== !(keys instanceof BigInt64Array)) {
      throw new SluiceError(
        "SLUICE_NATIVE_INVALID_ARGUMENT",
        `invalid argument \`keys\`: this window aggregator holds ${this.options.keyKind} keys, not ${utf8 ? "i64" : "utf8"} keys`,
      );
    }
    if (utf8) validateKeyColumn(keys as KeyColumn);
    const rows = utf8 ? (keys as KeyColumn).offsets.length - 1 : (keys as BigInt64Array).length;
    checkValues(this.op, rows, values.length);
    return rows;
  }

  /** Adds a checked part to pane `paneId`. */
  private addPart(
    paneId: number,
    batch: { readonly keys: WindowKeys<K>; readonly values: Float64Array },
  ): void {
    const { keys, values } = batch;
    const utf8 = this.options.keyKind === "utf8";
    const rows = utf8 ? (keys as KeyColumn).offsets.length - 1 : (keys as BigInt64Array).length;
    if (rows === 0) return;
    const pane = this.paneFor(paneId);
    this.activate(pane);
    const inRun = this.inRun(paneId);
    const readsValues = this.op !== "count";
    if (utf8) {
      const dict = this.bytesDict as ByteKeyDictionary;
      const { keys: blob, offsets } = keys as KeyColumn;
      for (let row = 0; row < rows; row++) {
        const before = dict.size;
        const id = dict.intern(blob, offsets[row] as number, offsets[row + 1] as number);
        this.accumulate(pane, id, id === before, readsValues ? (values[row] as number) : 0, inRun);
      }
    } else {
      const dict = this.intsDict as I64KeyDictionary;
      const ints = keys as BigInt64Array;
      const halves = new Int32Array(ints.buffer, ints.byteOffset, rows * 2);
      for (let row = 0; row < rows; row++) {
        const before = dict.size;
        const id = dict.intern(halves[row * 2] as number, halves[row * 2 + 1] as number);
        this.accumulate(pane, id, id === before, readsValues ? (values[row] as number) : 0, inRun);
      }
    }
  }

  evict(timeMs: number): void {
    checkTime("timeMs", timeMs);
    const through = floorDiv(timeMs, this.paneMs);
    if (through <= this.evictedThrough) return;
    let dropped = 0;
    while (dropped < this.panes.length && (this.panes[dropped] as Pane).id <= through) dropped++;
    const state = this.state;
    for (const pane of this.panes.splice(0, dropped)) {
      if (this.invertible && this.inRun(pane.id)) state.subtractPane(pane);
      if (this.active === pane) this.active = null;
      for (let slot = 0; slot < pane.size; slot++) {
        const id = pane.keys[slot] as number;
        const refs = (state.refs[id] as number) - 1;
        state.refs[id] = refs;
        if (refs === 0) {
          this.bytesDict?.forget(id);
          this.intsDict?.forget(id);
          this.live--;
        }
      }
    }
    if (this.run !== null && this.run[0] <= through) this.run = [through + 1, this.run[1]];
    this.evictedThrough = through;
    const dead = this.idCount - this.live;
    if (dead > Math.max(this.live, 1024)) this.compact();
  }

  advance(windowEndMs: number): void {
    const [lo, hi] = this.windowPanes(windowEndMs);
    if (this.invertible) this.advanceRunning(lo, hi);
  }

  emit(windowEndMs: number): WindowGroups<K> {
    const [lo, hi] = this.windowPanes(windowEndMs);
    let ids: Uint32Array;
    let values: Float64Array;
    if (this.invertible) {
      this.advanceRunning(lo, hi);
      [ids, values] = this.collectRunning();
    } else {
      [ids, values] = this.emitRecomputed(lo, hi);
    }
    if (this.bytesDict !== null) {
      const dict = this.bytesDict;
      let total = 0;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] as number;
        total += (dict.offsets[id + 1] as number) - (dict.offsets[id] as number);
      }
      const keys = new Uint8Array(total);
      const offsets = new Uint32Array(ids.length + 1);
      const blob = dict.blob;
      let at = 0;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] as number;
        const from = dict.offsets[id] as number;
        const to = dict.offsets[id + 1] as number;
        // A byte loop beats a subarray (one object per key) for the short keys windows hold.
        if (to - from < 32) {
          for (let b = from; b < to; b++) keys[at++] = blob[b] as number;
        } else {
          keys.set(blob.subarray(from, to), at);
          at += to - from;
        }
        offsets[i + 1] = at;
      }
      const groups: Utf8Groups = { keys: { keys, offsets }, values };
      return groups as WindowGroups<K>;
    }
    const groups: I64Groups = { keys: (this.intsDict as I64KeyDictionary).keysOf(ids), values };
    return groups as WindowGroups<K>;
  }

  emitPartitioned(windowEndMs: number, numPartitions: number): WindowGroups<K>[] {
    checkTime("windowEndMs", windowEndMs);
    checkNumPartitions(numPartitions);
    const groups = this.emit(windowEndMs);
    return numPartitions === 1 ? [groups] : placeGroups(groups, numPartitions);
  }

  snapshot(): Uint8Array {
    const state = this.state;
    const ids = this.idCount;
    const canonical = new Uint32Array(ids);
    const liveIds: number[] = [];
    for (let id = 0; id < ids; id++) {
      if ((state.refs[id] as number) > 0) {
        canonical[id] = liveIds.length;
        liveIds.push(id);
      }
    }
    const out = new SnapshotWriter();
    for (const byte of MAGIC) out.u8(byte);
    out.u16(VERSION);
    out.u8(AGGREGATE_OPS.indexOf(this.op));
    out.u8(this.options.keyKind === "utf8" ? 0 : 1);
    out.u64(this.options.windowMs);
    out.u64(this.options.slideMs);
    out.i64(this.evictedThrough);
    out.u8(this.run === null ? 0 : 1);
    out.i64(this.run?.[0] ?? 0);
    out.i64(this.run?.[1] ?? 0);
    out.u32(liveIds.length);
    if (this.bytesDict !== null) {
      for (const id of liveIds) {
        const key = this.bytesDict.get(id);
        out.u32(key.length);
        out.bytesOf(key);
      }
    } else {
      const halves = (this.intsDict as I64KeyDictionary).halves;
      for (const id of liveIds) {
        out.u32((halves[id * 2] as number) >>> 0);
        out.u32((halves[id * 2 + 1] as number) >>> 0);
      }
    }
    if (this.invertible) {
      for (const id of liveIds) {
        out.u64(state.runCounts[id] as number);
        out.f64(state.runSums[id] as number);
        out.u32(state.runNans[id] as number);
        out.u32(state.runPosInfs[id] as number);
        out.u32(state.runNegInfs[id] as number);
      }
    }
    out.u32(this.panes.length);
    for (const pane of this.panes) {
      out.i64(pane.id);
      out.u32(pane.size);
      for (let slot = 0; slot < pane.size; slot++) {
        out.u32(canonical[pane.keys[slot] as number] as number);
        out.u64(pane.counts[slot] as number);
        out.f64(pane.values[slot] as number);
        if (this.invertible) {
          out.u32(pane.nans[slot] as number);
          out.u32(pane.posInfs[slot] as number);
          out.u32(pane.negInfs[slot] as number);
        }
      }
    }
    return out.finish();
  }

  restore(bytes: Uint8Array): void {
    const r = new SnapshotReader(bytes);
    for (const byte of MAGIC) {
      if (r.u8() !== byte) throw corruptSnapshot("it does not start with the SLWA magic bytes");
    }
    const version = r.u16();
    if (version !== VERSION) {
      throw corruptSnapshot(
        `format version ${version} is not supported (this build reads version ${VERSION})`,
      );
    }
    const op = AGGREGATE_OPS[r.u8()];
    if (op === undefined) throw corruptSnapshot("unknown op code");
    const kindCode = r.u8();
    if (kindCode > 1) throw corruptSnapshot("unknown key kind");
    const keyKind: WindowKeyKind = kindCode === 0 ? "utf8" : "i64";
    const windowMs = r.u64();
    const slideMs = r.u64();
    const mine = this.options;
    if (
      op !== mine.op ||
      keyKind !== mine.keyKind ||
      windowMs !== mine.windowMs ||
      slideMs !== mine.slideMs
    ) {
      throw new SluiceError(
        "SLUICE_NATIVE_INVALID_SNAPSHOT",
        `invalid snapshot: it holds a ${op} window over ${keyKind} keys of ${windowMs} ms sliding by ${slideMs} ms, but this aggregator is a ${mine.op} window over ${mine.keyKind} keys of ${mine.windowMs} ms sliding by ${mine.slideMs} ms`,
      );
    }
    const fresh = new JsWindowAggregator(mine);
    fresh.evictedThrough = r.i64();
    const hasRun = r.u8();
    const runLo = r.i64();
    const runHi = r.i64();
    if (hasRun > 1) throw corruptSnapshot("bad running-window flag");
    fresh.run = hasRun === 1 ? [runLo, runHi] : null;
    const keyCount = r.u32();
    const state = fresh.state;
    state.ensure(keyCount);
    for (let id = 0; id < keyCount; id++) {
      let freshId: number;
      if (fresh.bytesDict !== null) {
        const key = r.slice(r.u32());
        freshId = fresh.bytesDict.intern(key, 0, key.length);
      } else {
        const [low, high] = r.halves();
        freshId = (fresh.intsDict as I64KeyDictionary).intern(low, high);
      }
      if (freshId !== id) throw corruptSnapshot("a key appears twice");
    }
    if (fresh.invertible) {
      for (let id = 0; id < keyCount; id++) {
        state.runCounts[id] = r.u64();
        state.runSums[id] = r.f64();
        state.runNans[id] = r.u32();
        state.runPosInfs[id] = r.u32();
        state.runNegInfs[id] = r.u32();
      }
    }
    const paneCount = r.u32();
    let lastPane = fresh.evictedThrough;
    for (let p = 0; p < paneCount; p++) {
      const paneId = r.i64();
      if (paneId <= lastPane) throw corruptSnapshot("panes are out of order or already evicted");
      lastPane = paneId;
      const entries = r.u32();
      const pane = new Pane(paneId);
      fresh.generation++;
      for (let e = 0; e < entries; e++) {
        const id = r.u32();
        if (id >= keyCount) throw corruptSnapshot("a pane names a key that does not exist");
        if (state.stamps[id] === fresh.generation)
          throw corruptSnapshot("a pane holds the same key twice");
        state.stamps[id] = fresh.generation;
        const slot = pane.push(id, 0);
        pane.counts[slot] = r.u64();
        pane.values[slot] = r.f64();
        if (fresh.invertible) {
          pane.nans[slot] = r.u32();
          pane.posInfs[slot] = r.u32();
          pane.negInfs[slot] = r.u32();
        }
        state.refs[id] = (state.refs[id] as number) + 1;
      }
      fresh.panes.push(pane);
    }
    if (r.at !== bytes.length) throw corruptSnapshot("bytes are left after the last pane");
    for (let id = 0; id < keyCount; id++) {
      if (state.refs[id] === 0) throw corruptSnapshot("a key is held by no pane");
    }
    fresh.live = keyCount;
    state.stamps.fill(0);
    fresh.generation = 1;
    this.bytesDict = fresh.bytesDict;
    this.intsDict = fresh.intsDict;
    this.state = state;
    this.live = fresh.live;
    this.panes = fresh.panes;
    this.evictedThrough = fresh.evictedThrough;
    this.run = fresh.run;
    this.active = null;
    this.generation = 1;
  }

  private openPane(timeMs: number): number {
    checkTime("timeMs", timeMs);
    const paneId = ceilDiv(timeMs, this.paneMs);
    if (paneId <= this.evictedThrough) {
      throw new SluiceError(
        "SLUICE_NATIVE_INVALID_ARGUMENT",
        `invalid argument \`timeMs\`: ${timeMs} falls in a pane already evicted (data at or before ${this.evictedThrough * this.paneMs} ms was dropped)`,
      );
    }
    return paneId;
  }

  /** The pane with `id`, created in sorted position when missing. */
  private paneFor(id: number): Pane {
    const panes = this.panes;
    const last = panes[panes.length - 1];
    if (last !== undefined && last.id === id) return last;
    const lo = this.firstPaneFrom(id);
    const found = panes[lo];
    if (found !== undefined && found.id === id) return found;
    const pane = new Pane(id);
    panes.splice(lo, 0, pane);
    return pane;
  }

  private inRun(paneId: number): boolean {
    return this.invertible && this.run !== null && this.run[0] <= paneId && paneId <= this.run[1];
  }

  private activate(pane: Pane): void {
    if (this.active === pane) return;
    this.generation = (this.generation + 1) >>> 0;
    const state = this.state;
    if (this.generation === 0) {
      state.stamps.fill(0);
      this.generation = 1;
    }
    for (let slot = 0; slot < pane.size; slot++) {
      const id = pane.keys[slot] as number;
      state.stamps[id] = this.generation;
      state.slots[id] = slot;
    }
    this.active = pane;
  }

  private accumulate(pane: Pane, id: number, isNew: boolean, value: number, inRun: boolean): void {
    const state = this.state;
    if (isNew) {
      state.ensure(id + 1);
      state.refs[id] = 0;
      state.stamps[id] = 0;
      state.slots[id] = 0;
      state.runCounts[id] = 0;
      state.runSums[id] = 0;
      state.runNans[id] = 0;
      state.runPosInfs[id] = 0;
      state.runNegInfs[id] = 0;
    }
    let slot: number;
    if (state.stamps[id] === this.generation) {
      slot = state.slots[id] as number;
    } else {
      slot = pane.push(id, this.invertible ? 0 : value);
      state.stamps[id] = this.generation;
      state.slots[id] = slot;
      const refs = (state.refs[id] as number) + 1;
      state.refs[id] = refs;
      if (refs === 1) this.live++;
    }
    pane.counts[slot] = (pane.counts[slot] as number) + 1;
    if (this.op === "min") {
      pane.values[slot] = Math.min(pane.values[slot] as number, value);
    } else if (this.op === "max") {
      pane.values[slot] = Math.max(pane.values[slot] as number, value);
    } else {
      if (Number.isFinite(value)) pane.values[slot] = (pane.values[slot] as number) + value;
      else if (Number.isNaN(value)) pane.nans[slot] = (pane.nans[slot] as number) + 1;
      else if (value > 0) pane.posInfs[slot] = (pane.posInfs[slot] as number) + 1;
      else pane.negInfs[slot] = (pane.negInfs[slot] as number) + 1;
      if (inRun) {
        state.runCounts[id] = (state.runCounts[id] as number) + 1;
        if (Number.isFinite(value)) state.runSums[id] = (state.runSums[id] as number) + value;
        else if (Number.isNaN(value)) state.runNans[id] = (state.runNans[id] as number) + 1;
        else if (value > 0) state.runPosInfs[id] = (state.runPosInfs[id] as number) + 1;
        else state.runNegInfs[id] = (state.runNegInfs[id] as number) + 1;
      }
    }
  }

  /** Index of the first pane with id >= `id` (binary search). */
  private firstPaneFrom(id: number): number {
    const panes = this.panes;
    let lo = 0;
    let hi = panes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((panes[mid] as Pane).id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Calls `visit` on the panes with ids in [lo, hi], in order. */
  private forPanesIn(lo: number, hi: number, visit: (pane: Pane) => void): void {
    const panes = this.panes;
    for (let i = this.firstPaneFrom(lo); i < panes.length; i++) {
      const pane = panes[i] as Pane;
      if (pane.id > hi) return;
      visit(pane);
    }
  }

  /** The pane range [lo, hi] of the window ending at `windowEndMs`. */
  private windowPanes(windowEndMs: number): [number, number] {
    checkTime("windowEndMs", windowEndMs);
    const { windowMs, slideMs } = this.options;
    if (windowEndMs % this.paneMs !== 0) {
      throw new SluiceError(
        "SLUICE_NATIVE_INVALID_ARGUMENT",
        `invalid argument \`windowEndMs\`: ${windowEndMs} is not a multiple of the pane length ${this.paneMs} ms (gcd of window ${windowMs} and slide ${slideMs})`,
      );
    }
    return [(windowEndMs - windowMs) / this.paneMs + 1, windowEndMs / this.paneMs];
  }

  /** Adds entering panes and subtracts leaving ones; rebuilds when moved backwards or unset. */
  private advanceRunning(lo: number, hi: number): void {
    const state = this.state;
    const run = this.run;
    if (run !== null && lo >= run[0] && hi >= run[1]) {
      const leaveHi = Math.min(lo - 1, run[1]);
      if (run[0] <= leaveHi) this.forPanesIn(run[0], leaveHi, (pane) => state.subtractPane(pane));
      const enterLo = Math.max(run[1] + 1, lo);
      if (enterLo <= hi) this.forPanesIn(enterLo, hi, (pane) => state.addPane(pane));
    } else {
      state.clearRunning(this.idCount);
      this.forPanesIn(lo, hi, (pane) => state.addPane(pane));
    }
    this.run = [lo, hi];
  }

  private collectRunning(): [Uint32Array, Float64Array] {
    const state = this.state;
    const ids = this.idCount;
    let present = 0;
    for (let id = 0; id < ids; id++) if ((state.runCounts[id] as number) > 0) present++;
    const outIds = new Uint32Array(present);
    const values = new Float64Array(present);
    let at = 0;
    for (let id = 0; id < ids; id++) {
      const count = state.runCounts[id] as number;
      if (count === 0) continue;
      outIds[at] = id;
      values[at++] =
        this.op === "count"
          ? count
          : this.op === "sum"
            ? state.runningSum(id)
            : state.runningSum(id) / count;
    }
    return [outIds, values];
  }

  private emitRecomputed(lo: number, hi: number): [Uint32Array, Float64Array] {
    const seen = new Int32Array(this.idCount).fill(-1);
    const ids: number[] = [];
    const acc: number[] = [];
    const min = this.op === "min";
    this.forPanesIn(lo, hi, (pane) => {
      for (let slot = 0; slot < pane.size; slot++) {
        const id = pane.keys[slot] as number;
        const value = pane.values[slot] as number;
        const at = seen[id] as number;
        if (at === -1) {
          seen[id] = acc.length;
          ids.push(id);
          acc.push(value);
        } else {
          acc[at] = min ? Math.min(acc[at] as number, value) : Math.max(acc[at] as number, value);
        }
      }
    });
    const order = Uint32Array.from(ids).sort();
    const values = new Float64Array(order.length);
    for (let i = 0; i < order.length; i++)
      values[i] = acc[seen[order[i] as number] as number] as number;
    return [order, values];
  }

  /** Renumbers live keys densely (same relative order) and drops forgotten ones. */
  private compact(): void {
    const ids = this.idCount;
    const old = this.state;
    const remap = new Int32Array(ids).fill(-1);
    const fresh = new KeyState();
    const oldBytes = this.bytesDict;
    const oldInts = this.intsDict;
    this.resetKeys();
    let next = 0;
    for (let id = 0; id < ids; id++) {
      if ((old.refs[id] as number) === 0) continue;
      remap[id] = next;
      if (oldBytes !== null) {
        const key = oldBytes.get(id);
        (this.bytesDict as ByteKeyDictionary).intern(key, 0, key.length);
      } else {
        const halves = (oldInts as I64KeyDictionary).halves;
        (this.intsDict as I64KeyDictionary).intern(
          halves[id * 2] as number,
          halves[id * 2 + 1] as number,
        );
      }
      fresh.ensure(next + 1);
      fresh.refs[next] = old.refs[id] as number;
      fresh.runCounts[next] = old.runCounts[id] as number;
      fresh.runSums[next] = old.runSums[id] as number;
      fresh.runNans[next] = old.runNans[id] as number;
      fresh.runPosInfs[next] = old.runPosInfs[id] as number;
      fresh.runNegInfs[next] = old.runNegInfs[id] as number;
      next++;
    }
    for (const pane of this.panes) {
      for (let slot = 0; slot < pane.size; slot++)
        pane.keys[slot] = remap[pane.keys[slot] as number] as number;
    }
    this.state = fresh;
    this.generation = 1;
    this.active = null;
  }
}

/** Groups placed into partitions by `murmur3(key) % numPartitions`, each keeping their order. */
function placeGroups<K extends WindowKeyKind>(
  groups: WindowGroups<K>,
  numPartitions: number,
): WindowGroups<K>[] {
  const { keys, values } = groups as { keys: KeyColumn | BigInt64Array; values: Float64Array };
  const rows = values.length;
  const partOf = new Uint32Array(rows);
  if (keys instanceof BigInt64Array) {
    // Little-endian on every supported platform: the bytes the Rust kernel hashes.
    const bytes = new Uint8Array(keys.buffer, keys.byteOffset, keys.byteLength);
    for (let row = 0; row < rows; row++) {
      partOf[row] = murmur3(bytes, row * 8, row * 8 + 8) % numPartitions;
    }
  } else {
    const { keys: blob, offsets } = keys;
    for (let row = 0; row < rows; row++) {
      partOf[row] =
        murmur3(blob, offsets[row] as number, offsets[row + 1] as number) % numPartitions;
    }
  }
  // A stable counting sort: each partition's rows in their order.
  const starts = new Uint32Array(numPartitions + 1);
  for (let row = 0; row < rows; row++) {
    const slot = (partOf[row] as number) + 1;
    starts[slot] = (starts[slot] as number) + 1;
  }
  for (let p = 0; p < numPartitions; p++) {
    starts[p + 1] = (starts[p + 1] as number) + (starts[p] as number);
  }
  const order = new Uint32Array(rows);
  const next = starts.slice(0, numPartitions);
  for (let row = 0; row < rows; row++) {
    const part = partOf[row] as number;
    const at = next[part] as number;
    order[at] = row;
    next[part] = at + 1;
  }
  return Array.from({ length: numPartitions }, (_, p) => {
    const from = starts[p] as number;
    const to = starts[p + 1] as number;
    const partValues = gatherValues(values, order, from, to);
    if (keys instanceof BigInt64Array) {
      const partKeys = new BigInt64Array(to - from);
      for (let i = from; i < to; i++) partKeys[i - from] = keys[order[i] as number] as bigint;
      return { keys: partKeys, values: partValues } as WindowGroups<K>;
    }
    return { keys: gatherRows(keys, order, from, to), values: partValues } as WindowGroups<K>;
  });
}
