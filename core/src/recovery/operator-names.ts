import type { DStream } from "../dstream/dstream.js";
import { isStatefulOperator, type StatefulOperator } from "../dstream/stateful-operator.js";
import { SluiceError } from "../errors/sluice-error.js";

/** A stateful operator of a job and the name its state is checkpointed under. */
export interface NamedOperator {
  readonly name: string;
  /** True when the name was derived from the graph rather than given with `name`. */
  readonly derived: boolean;
  readonly operator: DStream<unknown> & StatefulOperator;
}

/**
 * Names every stateful operator reachable from `outputs`: the name given with `name`; else,
 * below a named stream, `<that name>/<kind>` (`recent/window` for
 * `reduceByKeyAndWindow(...).name("recent")`); else `<kind>#<n>`, numbered in creation order.
 * Two operators given the same name are refused.
 *
 * @example
 * nameStatefulOperators(graph.outputs).map((named) => named.name); // ["totals", "window#0"]
 */
export function nameStatefulOperators(outputs: readonly DStream<unknown>[]): NamedOperator[] {
  const labels = new Map<DStream<unknown> & StatefulOperator, string | undefined>();
  const visited = new Set<DStream<unknown>>();
  const visit = (stream: DStream<unknown>, label: string | undefined): void => {
    if (visited.has(stream)) return;
    visited.add(stream);
    const below = stream.stableName ?? label;
    if (isStatefulOperator(stream)) labels.set(stream, below);
    for (const parent of stream.dependencies) visit(parent, below);
  };
  for (const output of outputs) visit(output, undefined);

  const named: NamedOperator[] = [];
  const counters = new Map<string, number>();
  const operators = [...labels.keys()].sort((a, b) => a.id - b.id);
  for (const operator of operators) {
    const given = operator.stableName;
    if (given !== undefined) {
      named.push({ name: given, derived: false, operator });
      continue;
    }
    const label = labels.get(operator);
    const prefix = label === undefined ? operator.stateKind : `${label}/${operator.stateKind}`;
    const index = counters.get(prefix) ?? 0;
    counters.set(prefix, index + 1);
    const name =
      label === undefined ? `${prefix}#${index}` : index === 0 ? prefix : `${prefix}#${index}`;
    named.push({ name, derived: true, operator });
  }
  const seen = new Map<string, NamedOperator>();
  for (const entry of named) {
    const other = seen.get(entry.name);
    if (other !== undefined) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `two stateful operators are named "${entry.name}" (${other.operator.stateKind} and ${entry.operator.stateKind}): checkpoints store state by name, so give each its own with .name("…")`,
      );
    }
    seen.set(entry.name, entry);
  }
  return named;
}
