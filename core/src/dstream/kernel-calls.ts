import pMap from "p-map";
import type { StreamScope } from "./stream-scope.js";

/**
 * Runs `call` over every item with at most as many kernel calls at once as the job has cores
 * (the N of `local[N]`; 1 without executors), results in the items' order. Columnar stages run
 * on the driver and their kernels on the native module's threads: this keeps `local[1]` to one
 * core, as its name says, and lets `local[N]` use N.
 *
 * @example
 * const parsed = await kernelCalls(this.scope, columns, (column) => kernels.splitWordsAsync(column));
 */
export function kernelCalls<T, R>(
  scope: StreamScope,
  items: readonly T[],
  call: (item: T) => Promise<R>,
): Promise<R[]> {
  const cores = scope.execution()?.executors ?? 1;
  if (cores <= 1) return sequentially(items, call);
  return pMap(items, call, { concurrency: cores });
}

/**
 * Below this many bytes a kernel call runs on the main thread: the hop to the libuv pool and
 * back (15–20 µs warm, more on a loaded machine) costs more than the call itself, which matters
 * at small batch intervals.
 */
export const SYNC_CALL_BELOW_BYTES = 16 * 1024;

async function sequentially<T, R>(
  items: readonly T[],
  call: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await call(item));
  return results;
}
