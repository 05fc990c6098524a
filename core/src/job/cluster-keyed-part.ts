import type { StreamingContextOptions } from "../context/context-options.js";
import type { StreamingContext } from "../context/streaming-context.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { ManualClock } from "../scheduler/manual-clock.js";
import { keyedChunks } from "./keyed-chunks.js";
import { findKeyedCut } from "./keyed-cut.js";
import { KeyedTaskRunner } from "./keyed-task-runner.js";
import { mapSideCombineOf } from "./map-side-combine.js";

// How long the keyed part waits for a source to offer the exchange before failing the job.
const EXCHANGE_WAIT_MS = 120_000;

// The name the keyed tasks report their partitions under, beside the sources' connector ids.
const KEYED_TASKS = "keyed tasks";

/** Builds the job again on a new context (for a keyed task). */
export type BuildJobContext = (options: StreamingContextOptions) => Promise<StreamingContext>;

/**
 * In cluster mode, splits a job with state across batches in two (docs/cluster.md, "Keyed
 * state"): this context keeps the outputs that need no keyed operator and sends the pairs at
 * the cut, split by keyed partition, through the exchange the Kafka source offers; the keyed
 * outputs run in one task per keyed partition this process owns, each a context of its own
 * built with `build`. Does nothing for a job without state across batches.
 *
 * @example
 * setUpKeyedPart(ctx, options, (taskOptions) => createJobContext(job, taskOptions));
 */
export function setUpKeyedPart(
  ctx: StreamingContext,
  options: StreamingContextOptions,
  build: BuildJobContext,
): void {
  const member = ctx.cluster;
  if (member === undefined) return;
  const { graph } = ctx.scope;
  const cut = findKeyedCut(graph.outputs);
  if (cut === undefined) return;
  const partitions = member.planKeyedPart();
  const keyedOutputIds = new Set(cut.keyedOutputs.map((output) => output.outputId));
  const boundaryId = cut.boundary.id;
  const boundaryName = `${cut.boundary.operatorName} (stream ${boundaryId})`;
  graph.outputs.splice(0, graph.outputs.length, ...cut.ingestOutputs);
  // Only reductions or one combineByKey read the pairs at the keyed side: each key's values are
  // combined here first (the keyed tasks read them as such: `readPartials`).
  const combine = mapSideCombineOf(cut);
  cut.boundary.foreachBatch(async (batch, time) => {
    const exchange = member.offeredExchange ?? (await member.keyedExchange());
    await exchange.write(time, keyedChunks(batch, partitions, boundaryName, combine));
  });
  const batchInterval = ctx.scope.batchInterval;
  const runner = new KeyedTaskRunner({
    specOf: (partition, exchange) => ({
      partition,
      batchInterval,
      exchange,
      boundaryId,
      keyedOutputIds,
      buildContext: (clock: ManualClock) =>
        build({
          batchInterval,
          appName: `${ctx.scope.appName}.keyed-${partition}`,
          clock,
          ...(options.kernels === undefined ? {} : { kernels: options.kernels }),
        }),
    }),
    reportError: (error) => ctx.scope.reportError(error),
    // Shown with the input partitions (status line, `ctx.cluster.partitions()`) as keyed-<n>.
    reportPartitions: (owned) =>
      member.reportPartitions(
        KEYED_TASKS,
        owned.map((partition) => `keyed-${partition}`),
      ),
  });
  let waiting: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  ctx.useKeyedPart({
    operators: cut.operators,
    // Sources connect after the inputs start: the exchange comes when the Kafka source did.
    start: async () => {
      waiting = setTimeout(() => {
        ctx.scope.reportError(
          new SluiceError(
            "SLUICE_INVALID_CONFIG",
            `cluster group "${member.group}": the job keeps state across batches (${cut.operators.join(", ")}), which runs as keyed tasks whose pairs travel through Kafka, but no source offered to carry them within ${EXCHANGE_WAIT_MS / 1000} s. A cluster job with state reads its input from one Kafka source (ctx.source("kafka", …)) that can reach the cluster's brokers`,
          ),
        );
      }, EXCHANGE_WAIT_MS);
      void member.keyedExchange().then((exchange) => {
        clearTimeout(waiting);
        if (!stopped) runner.start(exchange);
      });
    },
    stop: async () => {
      stopped = true;
      clearTimeout(waiting);
      await runner.stop();
    },
  });
}
