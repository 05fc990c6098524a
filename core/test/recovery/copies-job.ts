// The job of the tests of copies a broker sends again after a lost acknowledgement, and the
// step that loses the acknowledgements.
import type { StreamingContext } from "sluice";
import { ManualClock, Outputs, startJob } from "./job-harness.js";
import { MemoryQueue, until } from "./memory-brokers.js";

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

/** What `secondRunAfterLostAcks` leaves a test: the broker, the outputs, and the second run. */
export interface SecondRun {
  readonly queue: MemoryQueue;
  readonly outputs: Outputs;
  readonly build: (ctx: StreamingContext) => void;
  /** The copies the broker held back (`holdCopies`), for the test to deliver when it says. */
  readonly held: ReturnType<MemoryQueue["take"]>;
  readonly clock: ManualClock;
  readonly second: StreamingContext;
}

/**
 * The start the copy tests share: a first run logs "a#1", "b#2", "a#3" and dies before their
 * acknowledgements reach the broker; the broker queues the copies again, or holds them back
 * with `holdCopies`; then a second run starts in `directory` on a clock at 0.
 */
export async function secondRunAfterLostAcks(
  directory: string,
  running: StreamingContext[],
  holdCopies: boolean,
): Promise<SecondRun> {
  const queue = new MemoryQueue();
  const outputs = new Outputs();
  const build = wordTotalsById(queue, outputs);
  const first = await startJob(directory, new ManualClock(0), build);
  running.push(first);
  await logThenLoseAcks(first, queue, "a#1", "b#2", "a#3");
  const held = holdCopies ? queue.take() : undefined;
  const clock = new ManualClock(0);
  const second = await startJob(directory, clock, build);
  running.push(second);
  return { queue, outputs, build, held, clock, second };
}
