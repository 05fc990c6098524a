import { ManualClock } from "sluice/testing";
import type { DStreamGraph } from "../../src/dstream/dstream-graph.js";
import { InputInfoTracker } from "../../src/scheduler/input-info-tracker.js";
import { JobScheduler, type JobSchedulerDeps } from "../../src/scheduler/job-scheduler.js";
import { ListenerBus } from "../../src/scheduler/listener-bus.js";

/**
 * A `JobScheduler` over in-memory fakes: a graph of one input that logs to `events` when it is
 * told a batch completed (`inputs told <time>`, ` failed` after a failed one), a manual clock, no
 * listeners; `reportError` and `commitBatch` as given.
 *
 * @example
 * const events: string[] = [];
 * const scheduler = fakeScheduler(events, { reportError: (e) => errors.push(e) });
 */
export function fakeScheduler(
  events: string[],
  options: Pick<JobSchedulerDeps, "reportError" | "commitBatch"> & { concurrentJobs?: number },
): JobScheduler {
  const { concurrentJobs = 1, ...deps } = options;
  const graph = {
    inputs: [
      {
        batchCompleted: (time: number, failure: unknown) =>
          events.push(`inputs told ${time}${failure === undefined ? "" : " failed"}`),
      },
    ],
    clearMetadata: () => undefined,
  } as unknown as DStreamGraph;
  return new JobScheduler({
    clock: new ManualClock(0),
    graph,
    listenerBus: new ListenerBus(),
    inputInfoTracker: new InputInfoTracker(),
    concurrentJobs,
    onProgress: () => undefined,
    ...deps,
  });
}
