// The Kafka sink against the local broker when the job stops without draining while kafkajs
// reconnects and retries inside a write: every produce request loses its connection before it
// leaves (request-faults.ts, through the connectors' socket factory; the broker keeps running),
// and kafkajs retries with a new connection, up to `retries` times (here 1000: minutes). The
// write, and a job's ctx.stop(), end while requests still fail; nothing of the batch is in the
// topic, and once requests go through the sink connects again and writes. A write begun after
// the stop makes its first attempt and gets one request's time, not kafkajs's retries.
import type { Sink, WriteBatchContext } from "sluice/connector";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { kafkaSink } from "../../../connectors/kafka/src/index.js";
import { queuedJob } from "../../support/queued-job.js";
import { stoppableWrite } from "../../support/stoppable-write.js";
import { BROKERS, readTopic, until } from "./kafka-helpers.js";
import { kafkaSuite } from "./kafka-suite.js";
import { API_KEYS, armFault, disarmFaults, faultsFired } from "./request-faults.js";
import { createKafkaSink, kafkaRegistry } from "./source-harness.js";

vi.mock("../../../connectors/kafka/src/kafka-socket.js", async (importOriginal) => {
  const original =
    await importOriginal<typeof import("../../../connectors/kafka/src/kafka-socket.js")>();
  const { faultySocketFactory } = await import("./request-faults.js");
  return {
    ...original,
    guardedSocketFactory: () => faultySocketFactory(original.guardedSocketFactory()),
  };
});

const suite = kafkaSuite();
const encoder = new TextEncoder();
const signal = () => AbortSignal.timeout(30_000);
const backoff = { initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitter: 0 };
/** More produce requests than kafkajs makes in the test's time: requests fail until disarmed. */
const EVERY_REQUEST = 1_000_000;
let faultsCleared = false;

const context = (n: number): WriteBatchContext => ({
  batchTime: 1_700_000_000_000 + n * 1_000,
  partition: 0,
  idempotencyKey: `stop-reconnecting/${n}/0/0`,
});

beforeEach(() => {
  faultsCleared = false;
});

afterEach(() => {
  faultsCleared = true;
  disarmFaults();
});

/** Requests go through again. */
function clearFaults(): void {
  faultsCleared = true;
  disarmFaults();
}

/**
 * Clears the faults, connects `sink` again and writes `value`: the topic then holds `value`
 * alone (nothing of the writes the stop ended).
 */
async function writesOnceRequestsGoThrough(
  sink: Sink,
  topic: string,
  value: string,
  batch: WriteBatchContext,
): Promise<void> {
  clearFaults();
  await sink.connect(signal());
  await sink.writeBatch([{ value: encoder.encode(value) }], batch);
  const written = await readTopic(suite.kafka, suite.admin, topic);
  expect(written.map((message) => message.value)).toEqual([value]);
}

describe("the Kafka sink when the job stops without draining while kafkajs reconnects", () => {
  it("ends a write whose produce requests keep losing their connection while they still do, and writes once they go through", async () => {
    const registry = kafkaRegistry();
    const topic = await suite.newTopic("stop-reconnecting");
    try {
      const sink = createKafkaSink(registry, { brokers: BROKERS, topic, retries: 1_000 });
      await sink.connect(signal());
      armFault(API_KEYS.Produce, "request lost", EVERY_REQUEST);
      const fired = faultsFired();
      const { stop, outcome } = stoppableWrite(
        sink,
        ["a", "b"].map((value) => ({ value: encoder.encode(value) })),
        context(1),
      );
      // Two produce requests were cut off: kafkajs is retrying with new connections.
      await until(() => faultsFired() >= fired + 2, 60_000, "two produce requests cut off");
      stop.abort(new Error("the StreamingContext is stopping without draining"));
      expect(await outcome).toMatchObject({
        code: "SLUICE_CONNECTOR_IO",
        message: expect.stringContaining("stopping without draining"),
      });
      // The write ended while produce requests still fail.
      expect(faultsCleared).toBe(false);
      expect(sink.metrics).toMatchObject({ writes: 0, recordsOut: 0, errors: 1 });

      await writesOnceRequestsGoThrough(sink, topic, "c", context(2));
    } finally {
      clearFaults();
      await registry.dispose();
    }
  }, 120_000);

  it("gives a write begun after the stop one request's time (requestTimeoutMs), not kafkajs's retries", async () => {
    const registry = kafkaRegistry();
    const topic = await suite.newTopic("stop-then-write");
    try {
      const sink = createKafkaSink(registry, {
        brokers: BROKERS,
        topic,
        retries: 1_000,
        requestTimeoutMs: 1_000,
      });
      await sink.connect(signal());
      armFault(API_KEYS.Produce, "request lost", EVERY_REQUEST);
      const fired = faultsFired();
      const stopped = AbortSignal.abort(
        new Error("the StreamingContext is stopping without draining"),
      );
      const outcome = await sink
        .writeBatch([{ value: encoder.encode("late") }], {
          ...context(3),
          retriesEnd: stopped,
          waitsEnd: stopped,
        })
        .then(
          () => "written",
          (error: unknown) => error,
        );
      expect(outcome).toMatchObject({
        code: "SLUICE_CONNECTOR_IO",
        message: expect.stringContaining("stopping without draining"),
      });
      // It made its first attempt, and ended while produce requests still fail (kafkajs's 1000
      // retries would take far longer than the test's time).
      expect(faultsFired()).toBeGreaterThan(fired);
      expect(faultsCleared).toBe(false);

      await writesOnceRequestsGoThrough(sink, topic, "d", context(4));
    } finally {
      clearFaults();
      await registry.dispose();
    }
  }, 120_000);

  it("ctx.stop() resolves while produce requests still fail, and the batch in progress failed", async () => {
    const topic = await suite.newTopic("stop-reconnecting-job");
    const { ctx, clock, input, outcomes } = queuedJob(
      "kafka-stop-while-reconnecting",
      [
        ["1-a", "1-b"],
        ["2-a", "2-b"],
      ],
      kafkaSink,
    );
    input.sink("kafka", { brokers: BROKERS, topic, retries: 1_000 }, { id: "out", backoff });
    try {
      await ctx.start();
      clock.advance(1000);
      await ctx.scope.awaitProcessed(1000);
      expect(outcomes).toEqual(["1000 written"]);

      armFault(API_KEYS.Produce, "request lost", EVERY_REQUEST);
      const fired = faultsFired();
      clock.advance(1000);
      await until(() => faultsFired() >= fired + 2, 60_000, "two produce requests cut off");
      expect(outcomes).toEqual(["1000 written"]);
      await ctx.stop();
      // Reached only if the stop ended while produce requests still fail.
      expect(faultsCleared).toBe(false);
      expect(ctx.state).toBe("STOPPED");
      expect(outcomes).toEqual(["1000 written", "2000 failed"]);
    } finally {
      clearFaults();
      await ctx.stop();
    }
    const written = await readTopic(suite.kafka, suite.admin, topic);
    expect(written.map((message) => message.value)).toEqual(["1-a", "1-b"]);
  }, 120_000);
});
