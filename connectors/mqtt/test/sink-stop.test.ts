// The MQTT sink when the job stops without draining (WriteBatchContext.retriesEnd aborts) while
// a write waits for the broker's acknowledgements, against a fake mqtt.js client whose broker
// keeps the connection open and never answers: the write gives up at once with an I/O error,
// counts nothing as written, and gives up the connection, so the next write connects afresh. A
// write begun after the stop still waits for its answers.
import { EventEmitter } from "node:events";
import type { IClientOptions, MqttClient } from "mqtt";
import type { SinkRecord } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { writeOverNewConnection } from "../../../test/support/write-over-new-connection.js";
import { MqttSink } from "../src/mqtt-sink.js";
import { mqttSinkConfig } from "../src/sink-config.js";

const encoder = new TextEncoder();
const context = { batchTime: 1_000, partition: 0, idempotencyKey: "job/1000/0/0" };
const records: SinkRecord[] = ["a", "b", "c"].map((value) => ({ value: encoder.encode(value) }));

/** An mqtt.js client that connects at once; its broker answers every publish, or none. */
class FakeClient extends EventEmitter {
  readonly published: string[] = [];
  /** Publishes waiting for an answer: answered by `answerAll`, failed by `end`. */
  readonly #waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
  ended = false;

  constructor(readonly answers: boolean) {
    super();
    setImmediate(() => this.emit("connect", { cmd: "connack", sessionPresent: false }));
  }

  publishAsync(_topic: string, payload: Buffer): Promise<void> {
    this.published.push(payload.toString());
    if (this.answers) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** The broker answers what it held. */
  answerAll(): void {
    for (const { resolve } of this.#waiting.splice(0)) resolve();
  }

  /** As mqtt.js does, fails the publishes still waiting. */
  end(): this {
    this.ended = true;
    for (const { reject } of this.#waiting.splice(0)) reject(new Error("Connection closed"));
    return this;
  }

  async endAsync(): Promise<void> {
    this.ended = true;
  }
}

/** A sink whose first connection's broker never answers, and whose later ones answer. */
async function sinkOnSilentBroker(): Promise<{ sink: MqttSink; clients: FakeClient[] }> {
  const clients: FakeClient[] = [];
  const sink = new MqttSink(
    mqttSinkConfig.parse({ url: "mqtt://127.0.0.1:1883", topic: "out", qos: 1 }),
    new LogCapture().logger,
    (_options: IClientOptions) => {
      const client = new FakeClient(clients.length > 0);
      clients.push(client);
      return client as unknown as MqttClient;
    },
  );
  await sink.connect(AbortSignal.timeout(5_000));
  return { sink, clients };
}

describe("the MQTT sink when retriesEnd aborts", () => {
  it("ends a write waiting for acknowledgements with an I/O error, counting nothing written, and connects afresh for the next", async () => {
    const { sink, clients } = await sinkOnSilentBroker();
    const stop = new AbortController();
    const writing = sink.writeBatch(records, { ...context, retriesEnd: stop.signal });
    // The publishes are out and wait for their PUBACKs.
    expect(clients[0]?.published).toEqual(["a", "b", "c"]);
    stop.abort(new Error("the StreamingContext is stopping without draining"));
    await expect(writing).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_IO",
      message: expect.stringMatching(
        /batch 1000 \(partition 0\) stopped waiting for its acknowledgements because the StreamingContext is stopping without draining, with 3 message\(s\) unconfirmed/,
      ),
    });
    expect(sink.metrics).toMatchObject({ recordsOut: 0, batches: 0 });
    expect(clients[0]?.ended).toBe(true);

    // The next write needs a new connection, where the whole batch is published again.
    await writeOverNewConnection(sink, records, context, AbortSignal.timeout(5_000));
    expect(clients[1]?.published).toEqual(["a", "b", "c"]);
    expect(sink.metrics).toMatchObject({ recordsOut: 3, batches: 1 });
    await sink.close();
  });

  it("still waits for the answers of a write begun after the stop (its first attempt)", async () => {
    const { sink, clients } = await sinkOnSilentBroker();
    const stop = new AbortController();
    stop.abort(new Error("the StreamingContext is stopping without draining"));
    let written = false;
    const writing = sink.writeBatch(records, { ...context, retriesEnd: stop.signal }).then(() => {
      written = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toBe(false);
    clients[0]?.answerAll();
    await writing;
    expect(sink.metrics).toMatchObject({ recordsOut: 3, batches: 1 });
    expect(clients[0]?.ended).toBe(false);
    await sink.close();
  });
});
