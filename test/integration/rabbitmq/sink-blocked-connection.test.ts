// The RabbitMQ sink against the local broker under a memory alarm (`rabbitmqctl
// set_vm_memory_high_watermark 0`): the broker blocks every connection that publishes
// (connection.blocked) and reads nothing more from it until the alarm clears. A write then waits
// for its confirms, without failing and without publishing again: once the alarm clears it
// completes, and the queue holds each record once. A stop without draining ends the wait while
// the alarm is still on. The alarm is the whole broker's: the file holds the broker's lock.
import { pino } from "pino";
import { ConnectorRegistry } from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { RabbitMqSink, rabbitmqSink } from "../../../connectors/rabbitmq/src/index.js";
import { stoppableWrite } from "../../support/stoppable-write.js";
import { drain, GUEST_URL, rabbitmqctl } from "./broker.js";
import { useLockedBroker } from "./locked-broker.js";

/** The broker's own watermark (scripts/services leaves RabbitMQ's default). */
const NORMAL_WATERMARK = "0.4";
const encoder = new TextEncoder();
const broker = useLockedBroker(() => clearAlarm());

async function raiseAlarm(): Promise<void> {
  await rabbitmqctl("set_vm_memory_high_watermark", "0");
}

async function clearAlarm(): Promise<void> {
  await rabbitmqctl("set_vm_memory_high_watermark", NORMAL_WATERMARK);
}

/** A connected sink to `queue` whose log tells when the broker blocked its connection. */
async function blockableSink(
  queue: string,
): Promise<{ sink: RabbitMqSink; blocked: Promise<void> }> {
  let onBlocked = (): void => {};
  const blocked = new Promise<void>((resolve) => {
    onBlocked = resolve;
  });
  const logger = pino(
    { level: "warn" },
    {
      write(line: string) {
        if (line.includes("RabbitMQ blocked the connection")) onBlocked();
      },
    },
  );
  const registry = new ConnectorRegistry({ logger }).use(rabbitmqSink);
  broker.afterTest(() => registry.dispose());
  const sink = registry.createSink("rabbitmq", {
    url: GUEST_URL,
    exchange: "",
    routingKey: queue,
    // Only the heartbeat could tell a blocked connection from a dead one: off, nothing does.
    heartbeatSeconds: 0,
  }).connector;
  if (!(sink instanceof RabbitMqSink)) throw new Error("expected the RabbitMQ sink");
  await sink.connect(AbortSignal.timeout(20_000));
  return { sink, blocked };
}

const records = (...values: string[]) => values.map((value) => ({ value: encoder.encode(value) }));

describe("the RabbitMQ sink when the broker blocks its connection (a memory alarm)", () => {
  it("waits through the block and completes once the alarm clears, each record in the queue once", async () => {
    const queue = await broker.newQueue("sluice-blocked");
    const { sink, blocked } = await blockableSink(queue);
    const context = { batchTime: 1_000, partition: 0, idempotencyKey: "blocked/1000/0/0" };
    await sink.writeBatch(records("before"), context);

    await raiseAlarm();
    let settled = false;
    const write = sink.writeBatch(records("a", "b", "c"), { ...context, batchTime: 2_000 });
    void write.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await blocked;
    // Blocked, the write neither fails nor completes.
    expect(settled).toBe(false);
    expect(sink.metrics).toMatchObject({ recordsOut: 1, batches: 1 });

    await clearAlarm();
    await write;
    expect(sink.metrics).toMatchObject({ recordsOut: 4, batches: 2, errors: 0 });
    expect(await drain(broker.channel(), queue)).toEqual(["before", "a", "b", "c"]);
  }, 60_000);

  it("gives up the wait at a stop without draining while the alarm is still on", async () => {
    const queue = await broker.newQueue("sluice-blocked");
    const { sink, blocked } = await blockableSink(queue);
    const context = { batchTime: 1_000, partition: 0, idempotencyKey: "blocked-stop/1000/0/0" };

    await raiseAlarm();
    const { stop, outcome } = stoppableWrite(sink, records("x", "y"), context);
    await blocked;
    stop.abort(new Error("the StreamingContext is stopping without draining"));
    expect(await outcome).toMatchObject({
      code: "SLUICE_CONNECTOR_IO",
      message: expect.stringContaining("stopping without draining"),
    });
    expect(sink.metrics).toMatchObject({ recordsOut: 0, batches: 0 });
    // The close the blocked broker does not read ends too (its socket destroyed).
    await sink.close();
  }, 60_000);
});
