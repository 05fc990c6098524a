// The RabbitMQ sink when the job stops without draining (WriteBatchContext.retriesEnd aborts)
// while a write waits for the broker, against a fake amqplib connection: waiting for publisher
// confirms, and waiting for a full channel to drain on a connection the broker blocked. Either
// way the write gives up at once with an I/O error, counts nothing as written and gives up the
// connection, so the next write connects afresh. A write begun after the stop still waits for
// its confirms.
import { EventEmitter } from "node:events";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import type { SinkRecord } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { writeOverNewConnection } from "../../../test/support/write-over-new-connection.js";
import { RabbitMqSink } from "../src/rabbitmq-sink.js";
import { rabbitmqSinkConfig } from "../src/sink-config.js";

const encoder = new TextEncoder();
const context = { batchTime: 1_000, partition: 0, idempotencyKey: "job/1000/0/0" };
const records: SinkRecord[] = ["a", "b", "c"].map((value) => ({ value: encoder.encode(value) }));
const stopReason = () => new Error("the StreamingContext is stopping without draining");

type Confirm = (error: unknown) => void;

/** How the fake broker answers a connection's publishes. */
type Behaviour = "confirms" | "silent" | "blocked";

/** One connection of a fake broker, with its confirm channel. */
class FakeConnection extends EventEmitter {
  readonly channel = new EventEmitter() as EventEmitter & Record<string, unknown>;
  readonly published: string[] = [];
  /** Confirms the broker has not sent yet. */
  readonly unconfirmed: Confirm[] = [];
  closed = false;

  constructor(readonly behaviour: Behaviour) {
    super();
    this.channel.publish = (
      _exchange: string,
      _key: string,
      content: Buffer,
      _options: unknown,
      confirm: Confirm,
    ): boolean => {
      this.published.push(content.toString());
      if (this.behaviour === "confirms") setImmediate(() => confirm(null));
      else this.unconfirmed.push(confirm);
      // A blocked connection's buffer fills at once and never drains.
      return this.behaviour !== "blocked";
    };
    this.channel.close = async () => undefined;
  }

  /** The broker confirms everything it held. */
  confirmAll(): void {
    for (const confirm of this.unconfirmed.splice(0)) confirm(null);
  }

  createConfirmChannel = async (): Promise<ConfirmChannel> =>
    this.channel as unknown as ConfirmChannel;

  close = async (): Promise<void> => {
    this.closed = true;
  };
}

/** A sink whose connections behave as `behaviours` says, in turn (later ones confirm). */
async function connectedSink(
  ...behaviours: Behaviour[]
): Promise<{ sink: RabbitMqSink; connections: FakeConnection[] }> {
  const connections: FakeConnection[] = [];
  const sink = new RabbitMqSink(
    rabbitmqSinkConfig.parse({ url: "amqp://127.0.0.1:5672", exchange: "" }),
    new LogCapture().logger,
    "sink:rabbitmq#1",
    async () => {
      const connection = new FakeConnection(behaviours[connections.length] ?? "confirms");
      connections.push(connection);
      return connection as unknown as ChannelModel;
    },
  );
  await sink.connect(AbortSignal.timeout(5_000));
  return { sink, connections };
}

describe("the RabbitMQ sink when retriesEnd aborts", () => {
  it("ends a write waiting for publisher confirms with an I/O error, counting nothing written, and connects afresh for the next", async () => {
    const { sink, connections } = await connectedSink("silent");
    const stop = new AbortController();
    const writing = sink.writeBatch(records, { ...context, retriesEnd: stop.signal });
    expect(connections[0]?.published).toEqual(["a", "b", "c"]);
    stop.abort(stopReason());
    await expect(writing).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_IO",
      message: expect.stringMatching(
        /batch 1000 \(partition 0\) stopped waiting for the broker because the StreamingContext is stopping without draining, with 3 message\(s\) unconfirmed/,
      ),
    });
    expect(sink.metrics).toMatchObject({ recordsOut: 0, batches: 0 });
    expect(connections[0]?.closed).toBe(true);

    await writeOverNewConnection(sink, records, context, AbortSignal.timeout(5_000));
    expect(connections[1]?.published).toEqual(["a", "b", "c"]);
    expect(sink.metrics).toMatchObject({ recordsOut: 3, batches: 1 });
    await sink.close();
  });

  it("ends a write waiting for a blocked connection to drain", async () => {
    const { sink, connections } = await connectedSink("blocked");
    connections[0]?.emit("blocked", "low on memory");
    const stop = new AbortController();
    const writing = sink.writeBatch(records, { ...context, retriesEnd: stop.signal });
    // The first publish filled the buffer: the write waits for it to drain before the next.
    expect(connections[0]?.published).toEqual(["a"]);
    stop.abort(stopReason());
    await expect(writing).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_IO",
      message: expect.stringContaining("stopping without draining, with 3 message(s) unconfirmed"),
    });
    expect(connections[0]?.published).toEqual(["a"]);
    expect(sink.metrics).toMatchObject({ recordsOut: 0, batches: 0 });
    await sink.close();
  });

  it("still waits for the confirms of a write begun after the stop (its first attempt)", async () => {
    const { sink, connections } = await connectedSink("silent");
    const stop = new AbortController();
    stop.abort(stopReason());
    let written = false;
    const writing = sink.writeBatch(records, { ...context, retriesEnd: stop.signal }).then(() => {
      written = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toBe(false);
    connections[0]?.confirmAll();
    await writing;
    expect(sink.metrics).toMatchObject({ recordsOut: 3, batches: 1 });
    expect(connections[0]?.closed).toBe(false);
    await sink.close();
  });
});
