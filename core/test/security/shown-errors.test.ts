// Error text that reaches a person without passing through the CLI's error line: the progress
// reporter's notes (status line, plain lines, JSON), what the web UI keeps for its pages and /api
// (a source's last error, an output operation's failure reason), and the registry's error when a
// plugin fails to create its connector (also thrown to a job that does not use the CLI).
import { pino } from "pino";
import { defineSource, REDACTED, registerSecretValue } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type ProgressMode, ProgressReporter } from "../../src/cli/progress-reporter.js";
import { BatchHistory } from "../../src/observability/batch-history.js";
import type { ProcessMetrics } from "../../src/observability/process-metrics.js";
import { SourceStatuses } from "../../src/observability/source-statuses.js";
import { UiBridge } from "../../src/observability/ui-bridge.js";
import type { ToUiWorker } from "../../src/observability/ui-messages.js";
import { ConnectorRegistry } from "../../src/plugins/registry.js";
import type { BatchInfo, OutputOperationInfo } from "../../src/scheduler/listener.js";

const URL_PASSWORD = "shown-url-pw-5d1e";
const REGISTERED = "shown-registered-value-91c3";
const FAILURE = `connect amqp://app:${URL_PASSWORD}@broker:5672 failed (token ${REGISTERED})`;

registerSecretValue(REGISTERED);

describe("the progress reporter's notes", () => {
  for (const mode of ["status-line", "lines", "json"] as const satisfies ProgressMode[]) {
    it(`redact a source's error in ${mode} mode`, () => {
      let printed = "";
      const reporter = new ProgressReporter(mode, 1000, { write: (text) => (printed += text) });
      reporter.note(`source source:rabbitmq#0: ${FAILURE}`);
      expect(printed).toContain(`amqp://${REDACTED}@broker:5672`);
      expect(printed).toContain(`token ${REDACTED}`);
      expect(printed).not.toContain(URL_PASSWORD);
      expect(printed).not.toContain(REGISTERED);
    });
  }
});

/** Fails when `data`, as /api sends it, holds a secret, and shows where. */
function expectRedacted(data: unknown): void {
  const json = JSON.stringify(data);
  expect(json).toContain(`amqp://${REDACTED}@broker:5672`);
  expect(json).not.toContain(URL_PASSWORD);
  expect(json).not.toContain(REGISTERED);
}

const failedOperation: OutputOperationInfo = {
  batchTime: 1000,
  id: 0,
  name: "sink:rabbitmq#0",
  startTime: 1000,
  endTime: 1010,
  duration: 10,
  failureReason: FAILURE,
  numRecords: undefined,
};

const failedBatch: BatchInfo = {
  batchTime: 1000,
  streamIdToInputInfo: new Map(),
  numRecords: 0,
  submissionTime: 1000,
  processingStartTime: 1000,
  processingEndTime: 1010,
  schedulingDelay: 0,
  processingDelay: 10,
  totalDelay: 10,
  outputOperationInfos: new Map([[0, failedOperation]]),
};

const sourceFailure = {
  streamId: 0,
  name: "source:rabbitmq#0",
  active: false,
  lastErrorMessage: FAILURE,
  lastError: new Error(FAILURE),
};

describe("what the web UI keeps for its pages and /api", () => {
  it("a source's last error is redacted", () => {
    const sources = new SourceStatuses(1000);
    sources.receiver("error", sourceFailure);
    expect(sources.all()[0]?.errors).toBe(1);
    expectRedacted(sources.all());
  });

  it("an output operation's failure reason is redacted, in the batch and on its own", () => {
    const history = new BatchHistory(10);
    const completed = history.update(failedBatch, "completed");
    expect(completed.status).toBe("failed");
    expectRedacted(completed);
    const running = new BatchHistory(10);
    running.update({ ...failedBatch, outputOperationInfos: new Map() }, "processing");
    expectRedacted(running.updateOutputOperation(failedOperation));
  });

  it("the events the job's thread posts to the UI's worker are redacted before they cross", () => {
    // The worker has its own registered values (none): the job's thread must redact them.
    const posted: ToUiWorker[] = [];
    const job = {
      appName: "app",
      batchInterval: 1000,
      master: undefined,
      checkpointDirectory: undefined,
    };
    const process = { text: async () => "" } as unknown as ProcessMetrics;
    const bridge = new UiBridge(job, (message) => posted.push(message), process);
    bridge.onReceiverError(sourceFailure);
    bridge.onOutputOperationCompleted(failedOperation);
    bridge.onBatchCompleted(failedBatch);
    const events = posted.filter((message) => message.type === "event");
    expect(events.map((event) => event.name)).toEqual([
      "onReceiverError",
      "onOutputOperationCompleted",
      "onBatchCompleted",
    ]);
    for (const event of events) {
      const info = event.info as Partial<BatchInfo>;
      // Maps as the structured clone carries them, shown as JSON.
      expectRedacted({ ...info, outputOperationInfos: [...(info.outputOperationInfos ?? [])] });
    }
  });
});

describe("the registry", () => {
  it("redacts a plugin's own error when it fails to create its connector", () => {
    const failing = defineSource({
      name: "failing",
      version: "1.0.0",
      config: z.strictObject({}),
      capabilities: { replayable: false },
      create: () => {
        throw new Error(FAILURE);
      },
    });
    const registry = new ConnectorRegistry({
      plugins: [failing],
      logger: pino({ level: "silent" }),
    });
    let message = "";
    try {
      registry.createSource("failing", {});
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    expect(message).toContain('The source plugin "failing" failed to create source:failing#');
    expectRedacted(message);
  });
});
