// What the MQTT sink makes of a broker's refusal of a message (an MQTT 5 PUBACK reason code),
// against a fake mqtt.js client: a refusal of one message for what it is is an
// InvalidRecordError with the record's index, the broker's other confirmations are kept so that
// writing the batch again does not publish them twice, and a refusal of the batch stays one.
import { EventEmitter } from "node:events";
import type { IClientOptions, IClientPublishOptions, MqttClient } from "mqtt";
import type { SinkRecord } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { MqttSink } from "../src/mqtt-sink.js";
import { mqttSinkConfig } from "../src/sink-config.js";

const encoder = new TextEncoder();
const context = { batchTime: 1_000, partition: 0, idempotencyKey: "job/1000/0/0" };

/** An error as mqtt.js rejects a publish the broker refused. */
function reasonCode(code: number, text: string): Error {
  return Object.assign(new Error(`Publish error: ${text}`), { code });
}

/**
 * An mqtt.js client that connects at once and answers each publish as `answer` says; with
 * `closeAfterRefusal` it then closes the connection, leaving later publishes unanswered, as
 * Mosquitto 2.0 does after a denied publish.
 */
class FakeClient extends EventEmitter {
  readonly published: string[] = [];
  #closed = false;

  constructor(
    readonly answer: (payload: string) => Error | undefined,
    readonly closeAfterRefusal: boolean,
  ) {
    super();
    setImmediate(() => this.emit("connect", { cmd: "connack", sessionPresent: false }));
  }

  async publishAsync(
    _topic: string,
    payload: Buffer,
    _options: IClientPublishOptions,
  ): Promise<void> {
    const text = payload.toString();
    this.published.push(text);
    if (this.#closed) return new Promise(() => undefined);
    const refusal = this.answer(text);
    if (refusal === undefined) return;
    if (this.closeAfterRefusal) {
      this.#closed = true;
      setImmediate(() => this.emit("close"));
    }
    throw refusal;
  }

  end(): this {
    return this;
  }

  async endAsync(): Promise<void> {}
}

async function connectedSink(
  topic: string,
  answer: (payload: string) => Error | undefined,
  closeAfterRefusal = false,
): Promise<{ sink: MqttSink; clients: FakeClient[]; client: FakeClient }> {
  const clients: FakeClient[] = [];
  const sink = new MqttSink(
    mqttSinkConfig.parse({ url: "mqtt://127.0.0.1:1883", topic }),
    new LogCapture().logger,
    (_options: IClientOptions) => {
      const client = new FakeClient(answer, closeAfterRefusal);
      clients.push(client);
      return client as unknown as MqttClient;
    },
  );
  await sink.connect(AbortSignal.timeout(5_000));
  const [client] = clients;
  if (client === undefined) throw new Error("the sink made no client");
  return { sink, clients, client };
}

const recordsOf = (values: string[]): SinkRecord[] =>
  values.map((value) => ({ value: encoder.encode(value), key: encoder.encode(value) }));

describe("the MQTT sink, when the broker refuses a message", () => {
  it.each([
    [0x95, "Packet too large", "larger than the broker takes"],
    [0x99, "Payload format invalid", "payload format indicator"],
    [0x90, "Topic Name invalid", "topic name"],
  ])(
    "names the record refused with reason %i and keeps what the broker took",
    async (code, text, advice) => {
      const { sink, client } = await connectedSink("out/{key}", (payload) =>
        payload === "bad" ? reasonCode(code, text) : undefined,
      );
      const records = recordsOf(["a", "bad", "b"]);
      const refusal = await sink.writeBatch(records, context).catch((error: unknown) => error);
      expect(refusal).toMatchObject({ code: "SLUICE_INVALID_RECORD", recordIndex: 1 });
      expect((refusal as Error).message).toContain("record 1 of batch 1000 (partition 0)");
      expect((refusal as Error).message).toContain('topic "out/bad"');
      expect((refusal as Error).message).toContain(advice);
      // Sluice writes the batch again without the refused record: the others are not sent again.
      await sink.writeBatch([records[0], records[2]] as SinkRecord[], context);
      expect(client.published).toEqual(["a", "bad", "b"]);
      expect(sink.metrics.recordsOut).toBe(2);
    },
  );

  it("names the lowest refused index and how many more were refused", async () => {
    const { sink } = await connectedSink("out/{key}", (payload) =>
      payload.startsWith("bad") ? reasonCode(0x95, "Packet too large") : undefined,
    );
    const refusal = await sink
      .writeBatch(recordsOf(["a", "bad1", "b", "bad3"]), context)
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: "SLUICE_INVALID_RECORD", recordIndex: 1 });
    expect((refusal as Error).message).toContain("(and 1 more record)");
  });

  it("takes not authorized as the record's when its topic comes from the record", async () => {
    const { sink } = await connectedSink("out/{key}", (payload) =>
      payload === "denied" ? reasonCode(0x87, "Not authorized") : undefined,
    );
    const refusal = await sink
      .writeBatch(recordsOf(["a", "denied"]), context)
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: "SLUICE_INVALID_RECORD", recordIndex: 1 });
    expect((refusal as Error).message).toContain("access rules");
  });

  it.each([false, true])(
    "takes not authorized as the sink's when every record has the same topic (connection closed after: %s)",
    async (closeAfterRefusal) => {
      const { sink } = await connectedSink(
        "alerts/out",
        () => reasonCode(0x87, "Not authorized"),
        closeAfterRefusal,
      );
      const refusal = await sink
        .writeBatch(recordsOf(["a", "b"]), context)
        .catch((error: unknown) => error);
      expect(refusal).toMatchObject({ code: "SLUICE_CONNECTOR_REFUSED" });
      expect((refusal as Error).message).toContain("alerts/out");
    },
  );

  it("fails the batch, not a record, when one message is refused for the batch's sake", async () => {
    const { sink, client } = await connectedSink("out/{key}", (payload) =>
      payload === "b"
        ? reasonCode(0x97, "Quota exceeded")
        : payload === "bad"
          ? reasonCode(0x95, "Packet too large")
          : undefined,
    );
    const records = recordsOf(["a", "bad", "b"]);
    const refusal = await sink.writeBatch(records, context).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: "SLUICE_BACKOFF" });
    // The retry sends what the broker has not confirmed: "a" is not published twice.
    client.published.length = 0;
    await sink.writeBatch(records, context).catch(() => undefined);
    expect(client.published).toEqual(["bad", "b"]);
  });

  it("names the refused record when the broker closes the connection after refusing it", async () => {
    const { sink, clients } = await connectedSink(
      "out/{key}",
      (payload) => (payload.startsWith("bad") ? reasonCode(0x87, "Not authorized") : undefined),
      true,
    );
    const records = recordsOf(["a", "bad1", "b", "bad3", "c"]);
    const first = await sink.writeBatch(records, context).catch((error: unknown) => error);
    expect(first).toMatchObject({ code: "SLUICE_INVALID_RECORD", recordIndex: 1 });
    expect((first as Error).message).toContain("closed the connection after refusing it");
    // Sluice reconnects and writes the batch again without record 1: "a" is not sent again.
    await sink.connect(AbortSignal.timeout(5_000));
    const rest = [records[0], records[2], records[3], records[4]] as SinkRecord[];
    const second = await sink.writeBatch(rest, context).catch((error: unknown) => error);
    expect(second).toMatchObject({ code: "SLUICE_INVALID_RECORD", recordIndex: 2 });
    await sink.connect(AbortSignal.timeout(5_000));
    await sink.writeBatch([records[0], records[2], records[4]] as SinkRecord[], context);
    expect(clients.map((client) => client.published)).toEqual([
      ["a", "bad1", "b", "bad3", "c"],
      ["b", "bad3", "c"],
      ["c"],
    ]);
  });
});
