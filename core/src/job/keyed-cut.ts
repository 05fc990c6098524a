import type { DStream } from "../dstream/dstream.js";
import type { ForEachDStream } from "../dstream/for-each-dstream.js";
import { isShuffleOperator } from "../dstream/shuffle-operator.js";
import { isStatefulOperator } from "../dstream/stateful-operator.js";
import { SluiceError } from "../errors/sluice-error.js";

/**
 * Where a cluster job with state across batches is cut: the stream whose pairs cross between
 * processes (the parent of the job's first keyed operators), the outputs that run in the keyed
 * tasks (those that read a keyed operator) and those that run where the input is read.
 */
export interface KeyedCut {
  readonly boundary: DStream<unknown>;
  readonly keyedOutputs: readonly ForEachDStream<unknown>[];
  readonly ingestOutputs: readonly ForEachDStream<unknown>[];
  /** The stateful operators of the keyed part, for messages. */
  readonly operators: readonly string[];
  /**
   * The streams of the keyed part that read the boundary directly: what the pairs sent across
   * are for (`mapSideCombineOf` decides from them whether they may be combined first).
   */
  readonly boundaryReaders: readonly DStream<unknown>[];
}

/**
 * The cut of a job whose outputs read state across batches, or `undefined` for a job whose
 * outputs depend only on each batch (it needs no keyed part). A keyed operator is a shuffle or
 * a stateful operator; the first ones on every path must all read one and the same stream.
 *
 * @example
 * const cut = findKeyedCut(ctx.scope.graph.outputs); // boundary: the `[word, 1]` pairs
 */
export function findKeyedCut(outputs: readonly ForEachDStream<unknown>[]): KeyedCut | undefined {
  const keyedOutputs: ForEachDStream<unknown>[] = [];
  const ingestOutputs: ForEachDStream<unknown>[] = [];
  const boundaries = new Set<DStream<unknown>>();
  const operators = new Set<string>();
  for (const output of outputs) {
    const above = ancestorsOf(output);
    const keyed = [...above].filter(isKeyed);
    if (keyed.length === 0) {
      ingestOutputs.push(output);
      continue;
    }
    keyedOutputs.push(output);
    for (const stream of keyed) {
      if (isStatefulOperator(stream)) operators.add(`${stream.operatorName} (stream ${stream.id})`);
      const upstream = ancestorsOf(stream);
      upstream.delete(stream);
      if ([...upstream].some(isKeyed)) continue;
      for (const parent of stream.dependencies) boundaries.add(parent);
    }
  }
  if (operators.size === 0) return undefined;
  const [boundary, ...others] = [...boundaries];
  if (boundary === undefined || others.length > 0) {
    throw new SluiceError(
      "SLUICE_INVALID_CONFIG",
      `in cluster mode a job's keyed operators must all read one stream of [key, value] pairs, which is shared between the processes by key; here they read ${[...boundaries].map((stream) => `${stream.operatorName} (stream ${stream.id})`).join(" and ")}. Join or union the inputs into one stream of pairs before the first shuffle or stateful operator`,
    );
  }
  const boundaryReaders = new Set<DStream<unknown>>();
  for (const output of keyedOutputs) {
    for (const stream of ancestorsOf(output)) {
      if (stream.dependencies.includes(boundary)) boundaryReaders.add(stream);
    }
  }
  return {
    boundary,
    keyedOutputs,
    ingestOutputs,
    operators: [...operators],
    boundaryReaders: [...boundaryReaders],
  };
}

function isKeyed(stream: DStream<unknown>): boolean {
  return isShuffleOperator(stream) || isStatefulOperator(stream);
}

function ancestorsOf(stream: DStream<unknown>): Set<DStream<unknown>> {
  const seen = new Set<DStream<unknown>>();
  const pending = [stream];
  while (pending.length > 0) {
    const next = pending.pop() as DStream<unknown>;
    if (seen.has(next)) continue;
    seen.add(next);
    pending.push(...next.dependencies);
  }
  return seen;
}
