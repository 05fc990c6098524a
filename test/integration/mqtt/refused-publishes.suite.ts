// Messages the broker refuses, against the real broker: Mosquitto answers a client's QoS 1
// publish to a "$SYS/..." topic with PUBACK 0x87 (not authorized), even on the anonymous
// listener, and then closes the connection (2.0.11 does so after any denied publish; the
// publishes after it are never answered). A record whose topic comes from the record and is refused is an invalid record: in
// a job with dead letters it goes there, naming its position in the batch, and the others are
// published once. A refused topic that every record has fails the sink instead.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StreamingContext } from "sluice";
import { ConnectorRegistry } from "sluice/advanced";
import { LogCapture, ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { MqttSink, mqttSink } from "../../../connectors/mqtt/src/index.js";
import { runFirstBatch } from "../../support/first-batch.js";
import { BROKER_URL, client, collect, publish, uniqueName } from "./broker.js";

// Only stops a wait that hangs: connecting to the broker can take seconds on a loaded machine.
const DEADLINE_MS = 20_000;

interface DeadLetterLine {
  readonly record: string;
  readonly error: string;
  readonly errorCode: string;
  readonly batchPosition: { readonly partition: number; readonly index: number };
}

const cleanups: (() => Promise<unknown>)[] = [];

async function deadLettersIn(directory: string): Promise<DeadLetterLine[]> {
  const lines: DeadLetterLine[] = [];
  const files = (await readdir(directory)).filter((name) => !name.startsWith(".")).sort();
  for (const file of files) {
    for (const line of (await readFile(join(directory, file), "utf8")).split("\n")) {
      if (line !== "") lines.push(JSON.parse(line) as DeadLetterLine);
    }
  }
  return lines;
}

// The hooks sit in this describe so that they run around these tests only: one file
// holds every suite of this broker.
describe("mqtt refused publishes", () => {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it("in a job with dead letters, sends the records the broker refuses there, each naming its position, and publishes the others once", async () => {
    const base = `sluice/test/${uniqueName("refused")}`;
    const denied = `$SYS/sluice-test/${uniqueName("denied")}`;
    const collector = await collect(`${base}/#`, 1);
    cleanups.push(() => collector.close());
    const dead = await mkdtemp(join(tmpdir(), "sluice-mqtt-refused-"));
    cleanups.push(() => rm(dead, { recursive: true, force: true }));
    // Records 1 and 3 go to a topic Mosquitto refuses; the sink sees record 3 as record 2 of
    // the write Sluice makes again without record 1.
    const readings = [0, 1, 2, 3, 4].map((n) =>
      JSON.stringify({ topic: n % 2 === 1 ? `${denied}/${n}` : `${base}/${n}`, n }),
    );
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    ctx.use(mqttSink);
    ctx.deadLetters("file", { directory: dead, format: "jsonl" });
    ctx.queueStream([readings]).sink("mqtt", { url: BROKER_URL, topic: "{json.topic}", qos: 1 });
    await runFirstBatch(ctx, clock);
    // A marker published after the job: once it arrived, so did everything published before it.
    const publisher = await client();
    cleanups.push(() => publisher.endAsync());
    await publish(publisher, `${base}/marker`, ["marker"], 1);
    await collector.until(`${base}/marker`, "marker");
    expect(collector.messages.map((message) => message.text)).toEqual([
      readings[0],
      readings[2],
      readings[4],
      "marker",
    ]);
    const letters = await deadLettersIn(dead);
    expect(letters.map((letter) => [letter.record, letter.batchPosition])).toEqual([
      [readings[1], { partition: 0, index: 1 }],
      [readings[3], { partition: 0, index: 3 }],
    ]);
    for (const [position, letter] of letters.entries()) {
      expect(letter.errorCode).toBe("SLUICE_INVALID_RECORD");
      expect(letter.error).toContain("Not authorized");
      expect(letter.error).toContain(`topic "${denied}/${position * 2 + 1}"`);
    }
    // The second refusal came from a write without record 1: its error says where it is.
    expect(letters[1]?.error).toContain("in the batch it is record 3 of partition 0");
  });

  it("refuses the sink, not a record, when the topic every record has is not authorized", async () => {
    const registry = new ConnectorRegistry({ logger: new LogCapture().logger }).use(mqttSink);
    cleanups.push(() => registry.dispose());
    const topic = `$SYS/sluice-test/${uniqueName("fixed")}`;
    const sink = registry.createSink("mqtt", { url: BROKER_URL, topic, qos: 1 }).connector;
    if (!(sink instanceof MqttSink)) throw new Error("expected the MQTT sink");
    await sink.connect(AbortSignal.timeout(DEADLINE_MS));
    const refusal = await sink
      // Two records: Mosquitto closes the connection after refusing the first.
      .writeBatch(
        [{ value: new TextEncoder().encode("x") }, { value: new TextEncoder().encode("y") }],
        {
          batchTime: 1_000,
          partition: 0,
          idempotencyKey: "refused/1000/0/0",
        },
      )
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: "SLUICE_CONNECTOR_REFUSED" });
    expect((refusal as Error).message).toContain(topic);
  });
});
