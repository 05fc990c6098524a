import { deserialize, serialize } from "node:v8";
import type { Batch } from "../dstream/batch.js";
import { SluiceError } from "../errors/sluice-error.js";
import { partitionOfKey } from "../util/partition-of-key.js";
import type { KeyedPartials, MapSideCombine } from "./map-side-combine.js";

/**
 * One keyed partition's pairs of one batch as they travel: the pairs grouped by key (keys in the
 * order they first came, each key's values in the order they came), each key's values as runs
 * of equal values. `runsPerKey[i]` runs belong to `keys[i]` (null: one each); run `j` is
 * `runLengths[j]` times `runValues[j]` (null: once each). A word count's `[word, 1]` pairs thus
 * travel as one key and one run per word instead of one serialized pair each, and each key is
 * hashed once per batch, not once per pair.
 */
interface GroupedChunk {
  /**
   * What each key's values are when the map side combined them into combiners or counts
   * (`MapSideCombine.partials`); absent: values (also partial results reduced like values).
   */
  readonly holds?: "combiners" | "counts";
  readonly keys: unknown[];
  readonly runsPerKey: Counts | null;
  readonly runValues: unknown[];
  readonly runLengths: Counts | null;
}

/** Counts in the narrowest typed array that holds them. */
type Counts = Uint8Array | Uint16Array | Uint32Array;

/** One key's values while a chunk is built. */
interface KeyGroup {
  readonly key: unknown;
  readonly values: unknown[];
}

/**
 * A batch of pairs split by keyed partition (`partitionOfKey(key, partitions)`), each part one
 * chunk (`undefined` for a partition with none): what the map side of a cluster job sends.
 * A chunk holds its pairs grouped by key, each key's values in their order, consecutive equal
 * values (numbers, strings, booleans, bigints, null, undefined; by `Object.is`) as one run;
 * `pairsOfChunks` gives the pairs back. Keys and values must be structured-cloneable; a record
 * that is not a `[key, value]` pair is refused with the stream named. With `combine`, each key's
 * values are what it makes of them (`mapSideCombineOf`: one partial result, a combiner or a
 * count, when that is all the keyed part needs), and a chunk of combiners or counts says so.
 *
 * @example
 * const chunks = keyedChunks(batch, 8, "MappedDStream (stream 2)");
 */
export function keyedChunks(
  batch: Batch<unknown>,
  partitions: number,
  streamName: string,
  combine?: MapSideCombine,
): Array<Uint8Array | undefined> {
  const groups: KeyGroup[][] = Array.from({ length: partitions }, () => []);
  // Primitive keys group by value (`-0` aside, which a Map would merge with 0); any other key
  // (an object, each record's own) forms a group of its own.
  const byKey = new Map<unknown, KeyGroup>();
  for (const partition of batch.partitions) {
    for (const record of partition) {
      if (!Array.isArray(record) || record.length !== 2) {
        throw new SluiceError(
          "SLUICE_INVALID_RECORD",
          `in cluster mode the records of ${streamName}, which the job's keyed operators read, must be [key, value] pairs so each key goes to one process; got ${describe(record)} in the batch at ${batch.time}. Map the records to pairs before the first shuffle or stateful operator`,
        );
      }
      const key: unknown = record[0];
      const value: unknown = record[1];
      const groupable = isPrimitive(key) && !Object.is(key, -0);
      let group = groupable ? byKey.get(key) : undefined;
      if (group === undefined) {
        group = { key, values: [] };
        (groups[partitionOfKey(key, partitions)] as KeyGroup[]).push(group);
        if (groupable) byKey.set(key, group);
      }
      group.values.push(value);
    }
  }
  if (combine !== undefined) {
    for (const of of groups) {
      for (let i = 0; i < of.length; i++) {
        const group = of[i] as KeyGroup;
        of[i] = { key: group.key, values: [...combine.combine(group.values)] };
      }
    }
  }
  const holds =
    combine === undefined || combine.partials === "values" ? undefined : combine.partials;
  return groups.map((of) => (of.length === 0 ? undefined : serialize(chunkOf(of, holds))));
}

/**
 * The pairs of a keyed partition's batch, from the chunks every process sent for it, in the
 * order the chunks came (within a chunk, grouped by key as `keyedChunks` wrote them). With
 * `expected` (what this process's job reads at the cut), a chunk that holds something else —
 * a process running another version of the job, or of Sluice, that combines differently — is
 * refused (`SLUICE_INVALID_CONFIG`) rather than read as the wrong thing.
 *
 * @example
 * const pairs = pairsOfChunks(batch.chunks, "counts");
 */
export function pairsOfChunks(chunks: readonly Uint8Array[], expected?: KeyedPartials): unknown[] {
  const pairs: unknown[] = [];
  for (const bytes of chunks) {
    const chunk = deserialize(bytes) as GroupedChunk | unknown[];
    const holds = Array.isArray(chunk) ? "values" : (chunk.holds ?? "values");
    if (expected !== undefined && holds !== expected) {
      throw new SluiceError(
        "SLUICE_INVALID_CONFIG",
        `a process of the cluster group sent the keyed part ${holds} where this process's job reads ${expected}: the processes run different versions of the job or of Sluice, whose map sides combine each key's values differently. Run the same job module and Sluice version in every process of the group: stop them all, then start them again`,
      );
    }
    // A chunk of the first format: the pairs themselves.
    if (Array.isArray(chunk)) {
      for (let i = 0; i < chunk.length; i++) pairs.push(chunk[i]);
      continue;
    }
    const { keys, runsPerKey, runValues, runLengths } = chunk;
    let run = 0;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      const end = run + (runsPerKey === null ? 1 : (runsPerKey[k] as number));
      for (; run < end; run++) {
        const value = runValues[run];
        const length = runLengths === null ? 1 : (runLengths[run] as number);
        for (let n = 0; n < length; n++) pairs.push([key, value]);
      }
    }
  }
  return pairs;
}

function chunkOf(groups: readonly KeyGroup[], holds: GroupedChunk["holds"]): GroupedChunk {
  const keys: unknown[] = new Array(groups.length);
  const runsPerKey: number[] = new Array(groups.length);
  const runValues: unknown[] = [];
  const runLengths: number[] = [];
  for (const [index, { key, values }] of groups.entries()) {
    keys[index] = key;
    const first = runValues.length;
    for (const value of values) {
      const last = runValues.length - 1;
      if (last >= first && isPrimitive(value) && Object.is(runValues[last], value)) {
        (runLengths[last] as number)++;
      } else {
        runValues.push(value);
        runLengths.push(1);
      }
    }
    runsPerKey[index] = runValues.length - first;
  }
  return {
    ...(holds === undefined ? {} : { holds }),
    keys,
    runsPerKey: countsOf(runsPerKey),
    runValues,
    runLengths: countsOf(runLengths),
  };
}

// The counts in the narrowest typed array, or null when every count is 1.
function countsOf(counts: readonly number[]): Counts | null {
  let max = 0;
  for (const count of counts) if (count > max) max = count;
  if (max <= 1) return null;
  if (max <= 0xff) return Uint8Array.from(counts);
  if (max <= 0xffff) return Uint16Array.from(counts);
  return Uint32Array.from(counts);
}

function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== "object" && typeof value !== "function");
}

function describe(record: unknown): string {
  const text = JSON.stringify(record) ?? String(record);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
