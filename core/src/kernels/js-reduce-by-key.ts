import { checkAggregateOp, checkValues, startAggregate } from "./aggregate-op.js";
import { ByteKeyDictionary, grow } from "./byte-key-dictionary.js";
import { I64KeyDictionary } from "./i64-key-dictionary.js";
import type { AggregateOp, I64Groups, KeyColumn, Utf8Groups } from "./kernels.js";
import { validateKeyColumn } from "./key-column.js";

/**
 * Per-group accumulators indexed by dictionary id, with the rules both engines share
 * (`startAggregate`, `stepAggregate` of `aggregate-op.ts`); mean = sum / count.
 */
class Accumulators {
  values: Float64Array;
  counts: Float64Array | null;
  size = 0;

  constructor(
    private readonly op: AggregateOp,
    capacity: number,
  ) {
    this.values = new Float64Array(Math.max(capacity, 16));
    this.counts = op === "mean" ? new Float64Array(this.values.length) : null;
  }

  add(id: number, value: number): void {
    if (id === this.size) {
      this.start(value);
      return;
    }
    // `stepAggregate` written out: calling it once per row makes the twin about a quarter slower
    // (V8 does not inline it here). The parity tests hold the two, and the engine, to the same bits.
    const values = this.values;
    switch (this.op) {
      case "sum":
        values[id] = (values[id] as number) + value;
        break;
      case "count":
        values[id] = (values[id] as number) + 1;
        break;
      case "min":
        values[id] = Math.min(values[id] as number, value);
        break;
      case "max":
        values[id] = Math.max(values[id] as number, value);
        break;
      case "mean": {
        values[id] = (values[id] as number) + value;
        const counts = this.counts as Float64Array;
        counts[id] = (counts[id] as number) + 1;
        break;
      }
    }
  }

  finish(): Float64Array {
    const out = this.values.slice(0, this.size);
    const counts = this.counts;
    if (counts !== null) {
      for (let id = 0; id < out.length; id++)
        out[id] = (out[id] as number) / (counts[id] as number);
    }
    return out;
  }

  private start(value: number): void {
    const id = this.size++;
    if (id >= this.values.length) {
      this.values = grow(this.values, id + 1);
      if (this.counts !== null) this.counts = grow(this.counts, id + 1);
    }
    this.values[id] = startAggregate(this.op, value);
    if (this.counts !== null) this.counts[id] = 1;
  }
}

/** Same first guess at the number of groups as the engine. */
function estimateGroups(rows: number): number {
  return Math.min(rows, 1 << 12);
}

/**
 * reduceByKey over UTF-8 keys in TypeScript: the twin of the engine's `reduce_by_key_bytes`.
 *
 * @example
 * reduceByKeyUtf8Js(keyColumnFromStrings(["a", "b", "a"]), Float64Array.of(1, 2, 3), "sum");
 */
export function reduceByKeyUtf8Js(
  column: KeyColumn,
  values: Float64Array,
  op: AggregateOp,
): Utf8Groups {
  checkAggregateOp(op);
  validateKeyColumn(column);
  const { keys, offsets } = column;
  const rows = offsets.length - 1;
  checkValues(op, rows, values.length);
  const dictionary = new ByteKeyDictionary(estimateGroups(rows));
  const acc = new Accumulators(op, estimateGroups(rows));
  const readsValues = op !== "count";
  for (let row = 0; row < rows; row++) {
    const id = dictionary.intern(keys, offsets[row] as number, offsets[row + 1] as number);
    acc.add(id, readsValues ? (values[row] as number) : 0);
  }
  return {
    keys: {
      keys: dictionary.blob.slice(0, dictionary.byteLength),
      offsets: dictionary.offsets.slice(0, dictionary.size + 1),
    },
    values: acc.finish(),
  };
}

/**
 * reduceByKey over 64-bit integer keys in TypeScript: the twin of `reduce_by_key_i64`.
 *
 * @example
 * reduceByKeyI64Js(BigInt64Array.of(1n, 2n, 1n), Float64Array.of(1, 2, 3), "max");
 */
export function reduceByKeyI64Js(
  keys: BigInt64Array,
  values: Float64Array,
  op: AggregateOp,
): I64Groups {
  checkAggregateOp(op);
  const rows = keys.length;
  checkValues(op, rows, values.length);
  const halves = new Int32Array(keys.buffer, keys.byteOffset, rows * 2);
  const dictionary = new I64KeyDictionary(estimateGroups(rows));
  const acc = new Accumulators(op, estimateGroups(rows));
  const readsValues = op !== "count";
  for (let row = 0; row < rows; row++) {
    const id = dictionary.intern(halves[row * 2] as number, halves[row * 2 + 1] as number);
    acc.add(id, readsValues ? (values[row] as number) : 0);
  }
  return { keys: dictionary.keysOf(null), values: acc.finish() };
}
