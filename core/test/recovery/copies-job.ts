// The job of the tests of copies a broker sends again after a lost acknowledgement, and the
// step that loses the acknowledgements.
import type { StreamingContext } from "sluice";
import type { Outputs } from "./job-harness.js";
import { type MemoryQueue, until } from "./memory-brokers.js";

/**
 * The job of the copy tests: running totals of the words of `queue`'s messages ("word#n"), the
 * source naming each record by its whole text, so that a redelivered copy is known.
 */
export function wordTotalsById(
  queue: MemoryQueue,
  outputs: Outputs,
): (ctx: StreamingContext) => void {
  return (ctx) => {
    const text = (record: { value: Uint8Array }) => new TextDecoder().decode(record.value);
    const words = ctx
      .source(queue.plugin(), {}, { id: "queue", recordId: text })
      .map((record): [string, number] => [text(record).split("#")[0] ?? "", 1]);
    outputs.write(
      "totals",
      words.updateStateByKey((values: number[], total: number | undefined) =>
        values.reduce((a, b) => a + b, total ?? 0),
      ),
    );
  };
}

/** Publishes `values`, which `job` logs; the acknowledgements die with the process (a crash). */
export async function logThenLoseAcks(
  job: StreamingContext,
  queue: MemoryQueue,
  ...values: string[]
) {
  queue.loseAcks = true;
  queue.publish(...values);
  const input = job.scope.graph.inputs[0];
  await until(() => input?.hasPendingData() === true, "logged");
  queue.crash();
  queue.loseAcks = false;
}
