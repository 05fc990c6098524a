import { NamedReducedDStream } from "../dstream/named-reduced-dstream.js";
import { ShuffledDStream } from "../dstream/shuffled-dstream.js";
import { startAggregate, stepAggregate } from "../kernels/aggregate-op.js";
import type { KeyedCut } from "./keyed-cut.js";

/**
 * What the map side of a cluster job sends for one key of a batch, given the key's values in
 * the order they came: one value combining them, or the values as they are.
 */
export type CombineValues = (values: readonly unknown[]) => readonly unknown[];

/**
 * How the map side of a cluster job may combine each key's values of a batch before they
 * cross between processes (Spark's map-side combine), or `undefined` when the keyed part needs
 * every value. They are combined when every stream of the keyed part that reads the pairs is a
 * reduction by one and the same function (`reduceByKey(fn)`, also the per-batch reduction under
 * `reduceByKeyAndWindow(fn, { inverse })`) or one and the same named `"sum"`, `"min"` or
 * `"max"`: reducing each process's partial results again gives what reducing every value
 * gives, for the associative and commutative functions `reduceByKey` asks for. Anything else
 * reading the pairs (`updateStateByKey`, `mapWithState`, `combineByKey`, `"count"`, a window
 * of raw pairs, a union) keeps them all.
 *
 * @example
 * const combine = mapSideCombineOf(cut); // for pairs.reduceByKey(add) alone: each key's values added up
 */
export function mapSideCombineOf(cut: KeyedCut): CombineValues | undefined {
  const functions = new Set<(left: unknown, right: unknown) => unknown>();
  const named = new Set<string>();
  for (const reader of cut.boundaryReaders) {
    if (reader instanceof ShuffledDStream && reader.mapSideCombine) {
      const reduce = (reader as ShuffledDStream<unknown, unknown, unknown>).aggregator.reduce;
      if (reduce === undefined) return undefined;
      functions.add(reduce);
    } else if (
      reader instanceof NamedReducedDStream &&
      (reader.op === "sum" || reader.op === "min" || reader.op === "max")
    ) {
      named.add(reader.op);
    } else {
      return undefined;
    }
  }
  if (functions.size + named.size !== 1) return undefined;
  const [reduce] = functions;
  if (reduce !== undefined) {
    return (values) =>
      values.length < 2 ? values : [values.reduce((left, right) => reduce(left, right))];
  }
  const op = [...named][0] as "sum" | "min" | "max";
  return (values) => {
    // Values that are not numbers cross as they are: the keyed side's reduction refuses them
    // with the record named.
    if (values.length < 2 || !values.every((value) => typeof value === "number")) return values;
    let accumulated = startAggregate(op, values[0] as number);
    for (let i = 1; i < values.length; i++) {
      accumulated = stepAggregate(op, accumulated, values[i] as number);
    }
    return [accumulated];
  };
}
