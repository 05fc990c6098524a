import { NamedReducedDStream } from "../dstream/named-reduced-dstream.js";
import type { Aggregator } from "../dstream/shuffle.js";
import { ShuffledDStream } from "../dstream/shuffled-dstream.js";
import { startAggregate, stepAggregate } from "../kernels/aggregate-op.js";
import type { KeyedCut } from "./keyed-cut.js";

/**
 * What the map side of a cluster job sends for one key of a batch, given the key's values in
 * the order they came: one value combining them, or the values as they are.
 */
export type CombineValues = (values: readonly unknown[]) => readonly unknown[];

/**
 * What the keyed side receives for each key of a batch when the map sides combined, and so how
 * the streams reading the cut must take it (`readPartials`): `"values"`, partial results the
 * readers reduce again just as they reduce values (a reduction by one function, a named
 * `"sum"`, `"min"` or `"max"`); `"combiners"`, `combineByKey` combiners, to be merged with
 * `mergeCombiners`; `"counts"`, partial counts, to be added up.
 */
export type KeyedPartials = "values" | "combiners" | "counts";

/** How the map side combines each key's values of a batch, and what the keyed side then gets. */
export interface MapSideCombine {
  readonly combine: CombineValues;
  readonly partials: KeyedPartials;
}

type Reduce = (left: unknown, right: unknown) => unknown;

/** What one stream reading the cut does with the pairs, when the map side may combine for it. */
type CombinableReader =
  | { readonly kind: "reduce"; readonly reduce: Reduce }
  | { readonly kind: "combiners"; readonly aggregator: Aggregator<unknown, unknown> }
  | { readonly kind: "named"; readonly op: "sum" | "min" | "max" | "count" };

/**
 * How the map side of a cluster job may combine each key's values of a batch before they
 * cross between processes (Spark's map-side combine), or `undefined` when the keyed part needs
 * every value. They are combined when every stream of the keyed part that reads the pairs is
 * one and the same of these: a reduction by one function (`reduceByKey(fn)`, also the
 * per-batch reduction under `reduceByKeyAndWindow(fn, { inverse })`), whose partial results
 * reduce again with it; a `combineByKey` with map-side combine on and the same three functions,
 * whose combiners the keyed side merges with `mergeCombiners`; a named `"sum"`, `"min"` or
 * `"max"`, reduced again; a named `"count"`, whose partial counts the keyed side adds up.
 * Anything else reading the pairs (`updateStateByKey`, `mapWithState`, `groupByKey`, a window
 * of raw pairs, a union, a mix of the above) keeps them all. The keyed tasks build the same
 * job and so come to the same answer (`readPartials`).
 *
 * @example
 * const combine = mapSideCombineOf(cut); // for pairs.reduceByKey(add) alone: each key's values added up
 */
export function mapSideCombineOf(cut: KeyedCut): MapSideCombine | undefined {
  const [first, ...others] = cut.boundaryReaders.map(combinableReader);
  if (first === undefined) return undefined;
  for (const other of others)
    if (other === undefined || !sameReader(first, other)) return undefined;
  switch (first.kind) {
    case "reduce":
      return { combine: reducing(first.reduce), partials: "values" };
    case "combiners":
      return { combine: combining(first.aggregator), partials: "combiners" };
    case "named":
      return first.op === "count"
        ? { combine: counting, partials: "counts" }
        : { combine: aggregating(first.op), partials: "values" };
  }
}

function combinableReader(reader: unknown): CombinableReader | undefined {
  if (reader instanceof ShuffledDStream && reader.mapSideCombine) {
    const aggregator = (reader as ShuffledDStream<unknown, unknown, unknown>).aggregator;
    // reduceByKey makes new createCombiner functions for every call: its `reduce` names it.
    return aggregator.reduce === undefined
      ? { kind: "combiners", aggregator }
      : { kind: "reduce", reduce: aggregator.reduce };
  }
  if (reader instanceof NamedReducedDStream) {
    return { kind: "named", op: (reader as NamedReducedDStream<unknown>).op };
  }
  return undefined;
}

function sameReader(left: CombinableReader, right: CombinableReader): boolean {
  if (left.kind === "reduce" && right.kind === "reduce") return left.reduce === right.reduce;
  if (left.kind === "named" && right.kind === "named") return left.op === right.op;
  if (left.kind === "combiners" && right.kind === "combiners") {
    const [a, b] = [left.aggregator, right.aggregator];
    return (
      a.createCombiner === b.createCombiner &&
      a.mergeValue === b.mergeValue &&
      a.mergeCombiners === b.mergeCombiners
    );
  }
  return false;
}

function reducing(reduce: Reduce): CombineValues {
  // A key's one value is its own partial result.
  return (values) =>
    values.length < 2 ? values : [values.reduce((left, right) => reduce(left, right))];
}

function combining(aggregator: Aggregator<unknown, unknown>): CombineValues {
  const { createCombiner, mergeValue } = aggregator;
  // Even one value becomes a combiner: the keyed side merges what it gets as combiners.
  return (values) => {
    if (values.length === 0) return values;
    let combiner = createCombiner(values[0]);
    for (let i = 1; i < values.length; i++) combiner = mergeValue(combiner, values[i]);
    return [combiner];
  };
}

// Every value counts, whatever it is: the keyed side adds the counts up.
const counting: CombineValues = (values) => (values.length === 0 ? values : [values.length]);

function aggregating(op: "sum" | "min" | "max"): CombineValues {
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
