/**
 * An executor thread: loads jobs (imports their module and rebuilds the graph), then runs the
 * tasks the driver sends, one at a time. Started through the bootstrap in `worker-bootstrap.ts`.
 */
import { parentPort } from "node:worker_threads";
import type { DeadLetter } from "../connector/dead-letter.js";
import type { DStream } from "../dstream/dstream.js";
import { SluiceError } from "../errors/sluice-error.js";
import { rebuildJobGraph } from "../job/rebuild-job-graph.js";
import { chooseKernels } from "../kernels/load-kernels.js";
import type { FromExecutor, TaskResult, ToExecutor } from "./messages.js";
import { runTask } from "./partition-work.js";
import { serializeError } from "./serialized-error.js";
import { recordsOfStrings } from "./shipped-strings.js";

const port = parentPort;
if (port === null) throw new Error("worker-main runs as an executor thread only");

const graphs = new Map<number, ReadonlyMap<number, DStream<unknown>>>();
/** Partitions kept for tasks to read (`put-block`), per job, by block id. */
const blocks = new Map<number, Map<string, ReadonlyArray<unknown>>>();
const kernels = chooseKernels().kernels;

const reply = (message: FromExecutor): void => port.postMessage(message);

/** Shared memory is shared, not moved: nothing to transfer; everything else is copied. */
function send(taskId: number, result: TaskResult, deadLetters: readonly DeadLetter[]): void {
  reply({
    type: "task-done",
    taskId,
    result,
    ...(deadLetters.length === 0 ? {} : { deadLetters }),
  });
}

let work: Promise<void> = Promise.resolve();

port.on("message", (message: ToExecutor) => {
  // One message after the other: a load finishes before the tasks that need it start.
  work = work.then(() => handle(message));
});

async function handle(message: ToExecutor): Promise<void> {
  switch (message.type) {
    case "load":
      try {
        graphs.set(message.jobKey, await rebuildJobGraph(message));
        reply({ type: "loaded", jobKey: message.jobKey });
      } catch (error) {
        reply({ type: "load-failed", jobKey: message.jobKey, error: serializeError(error) });
      }
      return;
    case "unload":
      graphs.delete(message.jobKey);
      blocks.delete(message.jobKey);
      return;
    case "put-block": {
      // Kept as records, made once (Spark keeps a cached partition deserialized), so each task
      // reading it loops over the same strings instead of cutting new ones.
      const { input } = message;
      const records = input.kind === "strings" ? recordsOfStrings(input.strings) : input.records;
      let kept = blocks.get(message.jobKey);
      if (kept === undefined) {
        kept = new Map();
        blocks.set(message.jobKey, kept);
      }
      kept.set(message.blockId, records);
      return;
    }
    case "drop-block":
      blocks.get(message.jobKey)?.delete(message.blockId);
      return;
    case "task": {
      const { taskId, task } = message;
      const streams = graphs.get(task.jobKey);
      // Every stream of a job shares its scope, and so the job's record failures.
      const failures = streams?.values().next().value?.scope.recordFailures;
      failures?.beginTask(task.time);
      try {
        if (streams === undefined) throw new Error(`job ${task.jobKey} is not loaded here`);
        const kept = blocks.get(task.jobKey);
        const result = runTask(streams, task, kernels, (blockId) => kept?.get(blockId));
        send(taskId, result, failures?.endTask() ?? []);
      } catch (error) {
        // A failed attempt's dead letters are dropped: the retry makes them again.
        failures?.endTask();
        reply({ type: "task-failed", taskId, error: serializeError(notCloneable(error)) });
      }
      return;
    }
  }
}

/** A result that cannot cross threads is a property of the records: say what to do about it. */
function notCloneable(error: unknown): unknown {
  if (!(error instanceof Error) || error.name !== "DataCloneError") return error;
  return new SluiceError(
    "SLUICE_INVALID_RECORD",
    `a record cannot be sent between threads (${error.message}); under master "local[N]" with N > 1 records must be structured-cloneable: plain data, arrays, Maps, Sets, Dates, typed arrays (no functions, class instances lose their methods)`,
    { cause: error },
  );
}

reply({ type: "ready" });
