import { deserialize, serialize } from "node:v8";
import type { Batch } from "../dstream/batch.js";
import { SluiceError } from "../errors/sluice-error.js";
import { partitionOfKey } from "../util/partition-of-key.js";

/**
 * A batch of pairs split by keyed partition (`partitionOfKey(key, partitions)`), each part one
 * chunk of `v8.serialize`d pairs (`undefined` for a partition with none): what the map side of
 * a cluster job sends. Keys and values must be structured-cloneable; a record that is not a
 * `[key, value]` pair is refused with the stream named.
 *
 * @example
 * const chunks = keyedChunks(batch, 8, "MappedDStream (stream 2)");
 */
export function keyedChunks(
  batch: Batch<unknown>,
  partitions: number,
  streamName: string,
): Array<Uint8Array | undefined> {
  const buckets: Array<unknown[] | undefined> = new Array(partitions).fill(undefined);
  for (const partition of batch.partitions) {
    for (const record of partition) {
      if (!Array.isArray(record) || record.length !== 2) {
        throw new SluiceError(
          "SLUICE_INVALID_RECORD",
          `in cluster mode the records of ${streamName}, which the job's keyed operators read, must be [key, value] pairs so each key goes to one process; got ${describe(record)} in the batch at ${batch.time}. Map the records to pairs before the first shuffle or stateful operator`,
        );
      }
      const target = partitionOfKey(record[0], partitions);
      const bucket = buckets[target];
      if (bucket === undefined) buckets[target] = [record];
      else bucket.push(record);
    }
  }
  return buckets.map((bucket) => (bucket === undefined ? undefined : serialize(bucket)));
}

/**
 * The pairs of a keyed partition's batch, from the chunks every process sent for it, in the
 * order the chunks came.
 *
 * @example
 * const pairs = pairsOfChunks(batch.chunks);
 */
export function pairsOfChunks(chunks: readonly Uint8Array[]): unknown[] {
  const pairs: unknown[] = [];
  for (const chunk of chunks) {
    const part = deserialize(chunk) as unknown[];
    for (let i = 0; i < part.length; i++) pairs.push(part[i]);
  }
  return pairs;
}

function describe(record: unknown): string {
  const text = JSON.stringify(record) ?? String(record);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
