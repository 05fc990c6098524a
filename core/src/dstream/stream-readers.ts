import type { DStream } from "./dstream.js";

/**
 * How many of `streams` read each stream (list it among their dependencies).
 *
 * @example
 * countReaders(ctx.scope.streams.values()).get(words); // 2 when words has two children
 */
export function countReaders(
  streams: Iterable<DStream<unknown>>,
): ReadonlyMap<DStream<unknown>, number> {
  const readers = new Map<DStream<unknown>, number>();
  for (const stream of streams) {
    for (const parent of stream.dependencies) readers.set(parent, (readers.get(parent) ?? 0) + 1);
  }
  return readers;
}
