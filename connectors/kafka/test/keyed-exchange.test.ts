// The keyed exchange against the real Kafka on 127.0.0.1:9092: map sides writing chunks and
// markers in transactions, the keyed side cutting complete batches, restores from the changelog
// and fencing of an earlier owner.
import type { Admin, Kafka } from "kafkajs";
import pino from "pino";
import type { KeyedBatch } from "sluice/connector";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  connectAdmin,
  createTopic,
  testKafka,
  uniqueName,
  until,
} from "../../../test/integration/kafka/kafka-helpers.js";
import { lockServers } from "../../../test/support/service-lock.js";
import type { KafkaClientConfig } from "../src/client-config.js";
import {
  KafkaKeyedExchange,
  type KafkaKeyedExchangeSettings,
} from "../src/keyed/kafka-keyed-exchange.js";
import { MAX_VALUE_BYTES } from "../src/keyed/keyed-topics.js";
import { MapSideWriter } from "../src/keyed/map-side-writer.js";
import { linkedSink } from "../src/transaction-link.js";

const logger = pino({ level: "silent" });
const CLIENT: KafkaClientConfig = {
  brokers: ["127.0.0.1:9092"],
  clientId: "sluice-keyed-tests",
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
  retries: 5,
};
const WAIT_MS = 20_000;

let release: () => Promise<void>;
let kafka: Kafka;
let admin: Admin;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  release = await lockServers(["kafka"]);
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  // Other suites may hold the Kafka lock for a while.
}, 320_000);

afterAll(async () => {
  await admin?.disconnect();
  await release?.();
});

afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

/** A job: its group and its input topic (`inputs` partitions). */
// The input topic of the latest job: acknowledgements below commit an offset of it, as a
// batch with records does (an acknowledgement that consumed nothing commits markers only).
let lastInput = "";

/** The offsets an acknowledgement of a batch with records brings (to a group of its own). */
function consumed(): { topic: string; partition: number; offset: bigint }[] {
  return [{ topic: lastInput, partition: 0, offset: 0n }];
}

async function job(inputs: number): Promise<{ group: string; input: string; keys: string[] }> {
  const group = uniqueName("keyed");
  const input = `${group}-in`;
  await createTopic(admin, input, inputs);
  lastInput = input;
  return { group, input, keys: Array.from({ length: inputs }, (_, i) => `${input}-${i}`) };
}

function settings(
  group: string,
  input: string,
  processId: string,
  owned: () => readonly string[],
  partitions: number,
): KafkaKeyedExchangeSettings {
  return {
    client: CLIENT,
    group,
    partitions,
    transactionalId: `${group}.sluice-map.${processId}`,
    inputTopics: { topics: [input] },
    ownedInputs: owned,
    transactionTimeoutMs: 10_000,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 300,
    rebalanceTimeoutMs: 10_000,
    maxWaitTimeMs: 100,
  };
}

/** A started exchange of process `processId` and the keyed partitions it owns now. */
async function exchange(
  group: string,
  input: string,
  processId: string,
  owned: () => readonly string[],
  partitions = 1,
): Promise<{ exchange: KafkaKeyedExchange; owns: () => readonly number[] }> {
  const created = new KafkaKeyedExchange(
    settings(group, input, processId, owned, partitions),
    logger,
  );
  opened.push(created);
  let owns: readonly number[] = [];
  created.onAssignment((partitions) => {
    owns = partitions;
  });
  await created.start(AbortSignal.timeout(WAIT_MS));
  return { exchange: created, owns: () => owns };
}

/** A map side alone (a process whose keyed side does not matter here). */
async function writer(
  group: string,
  processId: string,
  owned: readonly string[],
  partitions = 1,
): Promise<MapSideWriter> {
  const created = new MapSideWriter(
    kafka,
    {
      transactionalId: `${group}.sluice-map.${processId}`,
      repartitionTopic: `${group}.sluice-repartition`,
      partitions,
      transactionTimeoutMs: 10_000,
      ownedInputs: () => owned,
    },
    logger,
  );
  opened.push(created);
  await created.connect();
  return created;
}

/** Writes batch `time` and commits it as the source's acknowledgement would. */
async function writeBatch(
  side: { write(time: number, chunks: ReadonlyArray<Uint8Array | undefined>): Promise<void> },
  transactionalId: string,
  time: number,
  chunks: ReadonlyArray<string | undefined>,
): Promise<void> {
  await side.write(
    time,
    chunks.map((chunk) => (chunk === undefined ? undefined : Buffer.from(chunk))),
  );
  await linkedSink(transactionalId)?.commitWithOffsets("unused", consumed());
}

function text(batch: KeyedBatch): [number, string[]] {
  return [batch.time, batch.chunks.map((chunk) => Buffer.from(chunk).toString())];
}

async function next(exchange: KafkaKeyedExchange, partition: number): Promise<[number, string[]]> {
  return text(await exchange.nextBatch(partition, AbortSignal.timeout(WAIT_MS)));
}

describe("KafkaKeyedExchange", () => {
  it("completes batches from two processes' chunks and markers, each keyed partition at its owner", async () => {
    const { group, input, keys } = await job(2);
    const a = await exchange(group, input, "a", () => [keys[0] as string], 2);
    const b = await exchange(group, input, "b", () => [keys[1] as string], 2);
    // Both joined: each owns one keyed partition.
    await until(
      () => a.owns().length === 1 && b.owns().length === 1 && a.owns()[0] !== b.owns()[0],
      WAIT_MS,
      "the keyed partitions shared by both processes",
    );
    const idA = `${group}.sluice-map.a`;
    const idB = `${group}.sluice-map.b`;
    await writeBatch(a.exchange, idA, 1000, ["a0", "a1"]);
    await writeBatch(b.exchange, idB, 1000, ["b0", undefined]);
    await writeBatch(a.exchange, idA, 2000, [undefined, undefined]);
    await writeBatch(b.exchange, idB, 2000, [undefined, "b1"]);
    const owner = (partition: number): KafkaKeyedExchange =>
      a.owns().includes(partition) ? a.exchange : b.exchange;
    expect(await owner(0).restore(0)).toBeUndefined();
    expect(await owner(1).restore(1)).toBeUndefined();
    expect(await next(owner(0), 0)).toEqual([1000, ["a0", "b0"]]);
    expect(await next(owner(1), 1)).toEqual([1000, ["a1"]]);
    expect(await next(owner(0), 0)).toEqual([2000, []]);
    expect(await next(owner(1), 1)).toEqual([2000, ["b1"]]);
    // Batch 3000 is not complete until b's input passed it.
    await writeBatch(a.exchange, idA, 3000, ["a0'", undefined]);
    const pending = owner(0).nextBatch(0, AbortSignal.timeout(WAIT_MS));
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await writeBatch(a.exchange, idA, 4000, [undefined, undefined]);
    expect(settled).toBe(false);
    await writeBatch(b.exchange, idB, 3000, [undefined, undefined]);
    const held = await pending;
    expect(text(held)).toEqual([3000, ["a0'"]]);
    // The chunk waited for b's marker in later fetches: it holds its own bytes, not a view
    // into the fetch response it came in (which outweighs it: the record batch around it).
    expect(held.chunks.map((chunk) => [chunk.byteOffset, chunk.buffer.byteLength])).toEqual([
      [0, "a0'".length],
    ]);
  });

  it("ends a partition's work at a rebalance with an AbortError; the new owner continues", async () => {
    const { group, input, keys } = await job(1);
    const x = await exchange(group, input, "x", () => keys, 2);
    const id = `${group}.sluice-map.x`;
    await until(() => x.owns().length === 2, WAIT_MS, "both keyed partitions assigned");
    await writeBatch(x.exchange, id, 1000, ["p0", "p1"]);
    expect(await x.exchange.restore(0)).toBeUndefined();
    expect(await next(x.exchange, 0)).toEqual([1000, ["p0"]]);
    // Partition 1 is not fetched before it is restored.
    await admin.fetchTopicOffsets(input);
    expect(x.exchange.metrics.unreadBatches).toBe(0);
    expect(await x.exchange.restore(1)).toBeUndefined();
    expect(await next(x.exchange, 1)).toEqual([1000, ["p1"]]);
    await x.exchange.commit(1, 1000, Buffer.from("p1 done"));
    // The expectation is attached before the rebalance: the wait may end while y joins.
    const waiting = expect(
      x.exchange.nextBatch(1, AbortSignal.timeout(WAIT_MS)),
    ).rejects.toMatchObject({ name: "AbortError" });
    const y = await exchange(group, input, "y", () => [], 2);
    await waiting;
    await until(
      () => x.owns().length === 1 && y.owns().length === 1,
      WAIT_MS,
      "the keyed partitions shared after the rebalance",
    );
    await writeBatch(x.exchange, id, 2000, ["q0", "q1"]);
    expect(x.exchange.metrics).toMatchObject({ restores: 2, batches: 2, commits: 1 });
    for (const side of [x, y]) {
      const [partition] = side.owns() as [number];
      const restored = await side.exchange.restore(partition);
      expect(restored?.time).toBe(partition === 1 ? 1000 : undefined);
      expect(await next(side.exchange, partition)).toEqual(
        partition === 1 ? [2000, ["q1"]] : [1000, ["p0"]],
      );
    }
  });

  it("puts a chunk for a time already complete into the next batch, the same after a restore", async () => {
    const { group, input, keys } = await job(2);
    const x = await exchange(group, input, "x", () => [keys[0] as string]);
    const w = await writer(group, "w", [keys[1] as string]);
    const idX = `${group}.sluice-map.x`;
    await until(() => x.owns().length === 1, WAIT_MS, "keyed partition 0 assigned");
    await writeBatch(x.exchange, idX, 1000, ["x1"]);
    await writeBatch(w, `${group}.sluice-map.w`, 1000, ["w1"]);
    await writeBatch(x.exchange, idX, 2000, ["x2"]);
    await writeBatch(w, `${group}.sluice-map.w`, 2000, ["w2"]);
    // The input moves to a process whose clock is behind: its batch 1500 is late.
    await w.close();
    const late = await writer(group, "w2", [keys[1] as string]);
    await writeBatch(late, `${group}.sluice-map.w2`, 1500, ["late"]);
    await writeBatch(x.exchange, idX, 3000, ["x3"]);
    await writeBatch(late, `${group}.sluice-map.w2`, 3000, ["w3"]);
    expect(await x.exchange.restore(0)).toBeUndefined();
    expect(await next(x.exchange, 0)).toEqual([1000, ["x1", "w1"]]);
    // A state larger than Kafka's default record size limit (1 MiB).
    const big = Buffer.alloc(3 * 1024 * 1024, "after-1000");
    await x.exchange.commit(0, 1000, big);
    expect(await next(x.exchange, 0)).toEqual([2000, ["x2", "w2"]]);
    expect(await next(x.exchange, 0)).toEqual([3000, ["late", "x3", "w3"]]);
    // Restored from the commit after 1000, the replay makes the same choice.
    const restored = await x.exchange.restore(0);
    expect(restored?.time).toBe(1000);
    expect(Buffer.from(restored?.state ?? []).equals(big)).toBe(true);
    expect(await next(x.exchange, 0)).toEqual([2000, ["x2", "w2"]]);
    expect(await next(x.exchange, 0)).toEqual([3000, ["late", "x3", "w3"]]);
  });

  it("refuses a chunk too large for one record of the keyed topics, and goes on", async () => {
    const { group, input, keys } = await job(1);
    const x = await exchange(group, input, "x", () => keys);
    const id = `${group}.sluice-map.x`;
    await until(() => x.owns().length === 1, WAIT_MS, "keyed partition 0 assigned");
    // A map side's chunk over the limit is refused before anything is sent.
    const hugeChunk = Buffer.alloc(MAX_VALUE_BYTES + 1, "c");
    await expect(x.exchange.write(1000, [hugeChunk])).rejects.toMatchObject({
      code: "SLUICE_INVALID_CONFIG",
      message: expect.stringMatching(
        /^The chunk of batch 1000's pairs for keyed partition 0 takes \d+ bytes in one record.*cluster\.keyedPartitions/,
      ),
    });
    await writeBatch(x.exchange, id, 1000, ["c1"]);
    await writeBatch(x.exchange, id, 2000, ["c2"]);
    expect(await x.exchange.restore(0)).toBeUndefined();
    expect(await next(x.exchange, 0)).toEqual([1000, ["c1"]]);
    await x.exchange.commit(0, 1000, Buffer.from("s1"));
    expect(await next(x.exchange, 0)).toEqual([2000, ["c2"]]);
    expect(await x.exchange.restore(0)).toEqual({
      time: 1000,
      state: new Uint8Array(Buffer.from("s1")),
    });
  });

  it("commits a state larger than one record in parts, restores it whole, and a smaller commit after it", async () => {
    const { group, input, keys } = await job(1);
    const x = await exchange(group, input, "x", () => keys);
    const id = `${group}.sluice-map.x`;
    await until(() => x.owns().length === 1, WAIT_MS, "keyed partition 0 assigned");
    for (const time of [1000, 2000, 3000]) await writeBatch(x.exchange, id, time, [`c${time}`]);
    expect(await x.exchange.restore(0)).toBeUndefined();
    // Two records' worth and more: three parts, each under the topics' max.message.bytes.
    const large = Buffer.alloc(2 * MAX_VALUE_BYTES + 4096);
    for (let i = 0; i < large.byteLength; i += 1021) large[i] = (i / 1021) % 256;
    expect(await next(x.exchange, 0)).toEqual([1000, ["c1000"]]);
    await x.exchange.commit(0, 1000, large);
    const restored = await x.exchange.restore(0);
    expect(restored?.time).toBe(1000);
    expect(Buffer.from(restored?.state ?? new Uint8Array()).equals(large)).toBe(true);
    // The batches after the commit come again, from the position the parts held.
    expect(await next(x.exchange, 0)).toEqual([2000, ["c2000"]]);
    await x.exchange.commit(0, 2000, Buffer.from("small"));
    expect(await x.exchange.restore(0)).toEqual({
      time: 2000,
      state: new Uint8Array(Buffer.from("small")),
    });
    expect(await next(x.exchange, 0)).toEqual([3000, ["c3000"]]);
  }, 120_000);

  it("continues after a killed owner's last commit, and fences the old owner's later commit", async () => {
    const { group, input, keys } = await job(1);
    const old = await exchange(group, input, "old", () => keys);
    const id = `${group}.sluice-map.old`;
    await until(() => old.owns().length === 1, WAIT_MS, "keyed partition 0 assigned");
    await writeBatch(old.exchange, id, 1000, ["c1"]);
    await writeBatch(old.exchange, id, 2000, ["c2"]);
    await writeBatch(old.exchange, id, 3000, ["c3"]);
    expect(await old.exchange.restore(0)).toBeUndefined();
    expect(await next(old.exchange, 0)).toEqual([1000, ["c1"]]);
    await old.exchange.commit(0, 1000, Buffer.from("s1"));
    expect(await next(old.exchange, 0)).toEqual([2000, ["c2"]]);
    // Killed: it never commits batch 2000 and its partitions move.
    await old.exchange.leaveGroup();
    const successor = await exchange(group, input, "new", () => keys);
    await until(() => successor.owns().length === 1, WAIT_MS, "keyed partition 0 moved");
    expect(await successor.exchange.restore(0)).toEqual({
      time: 1000,
      state: new Uint8Array(Buffer.from("s1")),
    });
    expect(await next(successor.exchange, 0)).toEqual([2000, ["c2"]]);
    // The old owner comes back to life and commits batch 2000: refused.
    await expect(old.exchange.commit(0, 2000, Buffer.from("zombie"))).rejects.toThrow(
      /another process restored the partition/,
    );
    await successor.exchange.commit(0, 2000, Buffer.from("s2"));
    expect(await next(successor.exchange, 0)).toEqual([3000, ["c3"]]);
    // A third owner sees the successor's commit, not the zombie's.
    await successor.exchange.leaveGroup();
    const third = await exchange(group, input, "third", () => keys);
    await until(() => third.owns().length === 1, WAIT_MS, "keyed partition 0 moved again");
    expect(await third.exchange.restore(0)).toEqual({
      time: 2000,
      state: new Uint8Array(Buffer.from("s2")),
    });
    expect(await next(third.exchange, 0)).toEqual([3000, ["c3"]]);
  });

  it("restores the last commit from behind aborted changelog transactions", async () => {
    const { group, input, keys } = await job(1);
    const x = await exchange(group, input, "x", () => keys);
    const id = `${group}.sluice-map.x`;
    await until(() => x.owns().length === 1, WAIT_MS, "keyed partition 0 assigned");
    for (const time of [1000, 2000, 3000]) await writeBatch(x.exchange, id, time, [`c${time}`]);
    expect(await x.exchange.restore(0)).toBeUndefined();
    expect(await next(x.exchange, 0)).toEqual([1000, ["c1000"]]);
    await x.exchange.commit(0, 1000, Buffer.from("s1"));
    expect(await next(x.exchange, 0)).toEqual([2000, ["c2000"]]);
    await x.exchange.commit(0, 2000, Buffer.from("s2"));
    // Commits that never completed (a writer killed before its commit, say): more aborted
    // offsets than the first range a restore reads.
    const junk = kafka.producer({ transactionalId: `${group}.junk`, maxInFlightRequests: 1 });
    await junk.connect();
    try {
      for (let i = 0; i < 12; i++) {
        const transaction = await junk.transaction();
        await transaction.send({
          topic: `${group}.sluice-changelog`,
          messages: [{ partition: 0, key: "0", value: "junk" }],
        });
        await transaction.abort();
      }
    } finally {
      await junk.disconnect();
    }
    expect(await x.exchange.restore(0)).toEqual({
      time: 2000,
      state: new Uint8Array(Buffer.from("s2")),
    });
    expect(await next(x.exchange, 0)).toEqual([3000, ["c3000"]]);
  });

  it("never hands out chunks of an aborted map transaction; markers alone complete empty batches", async () => {
    const { group, input, keys } = await job(2);
    const x = await exchange(group, input, "x", () => keys);
    const id = `${group}.sluice-map.x`;
    await until(() => x.owns().length === 1, WAIT_MS, "keyed partition 0 assigned");
    await x.exchange.write(1000, [Buffer.from("rolled-back")]);
    await linkedSink(id)?.abortOpen();
    await writeBatch(x.exchange, id, 1000, ["kept"]);
    await writeBatch(x.exchange, id, 2000, [undefined]);
    await writeBatch(x.exchange, id, 3000, [undefined]);
    expect(await x.exchange.restore(0)).toBeUndefined();
    expect(await next(x.exchange, 0)).toEqual([1000, ["kept"]]);
    expect(await next(x.exchange, 0)).toEqual([2000, []]);
    expect(await next(x.exchange, 0)).toEqual([3000, []]);
    // A chunk larger than Kafka's default record size limit (1 MiB).
    const big = Buffer.alloc(3 * 1024 * 1024, "big");
    await x.exchange.write(4000, [big]);
    await linkedSink(id)?.commitWithOffsets("unused", consumed());
    const large = await x.exchange.nextBatch(0, AbortSignal.timeout(WAIT_MS));
    expect(large.time).toBe(4000);
    expect(large.chunks.map((chunk) => Buffer.from(chunk).equals(big))).toEqual([true]);
    const controller = new AbortController();
    const waiting = x.exchange.nextBatch(0, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
  });

  it("commits a batch's chunks only with offsets: an acknowledgement that consumed nothing commits markers alone", async () => {
    const { group, input, keys } = await job(1);
    const x = await exchange(group, input, "x", () => keys);
    const id = `${group}.sluice-map.x`;
    await until(() => x.owns().length === 1, WAIT_MS, "keyed partition 0 assigned");
    await x.exchange.write(1000, [undefined]);
    // An idle poll's acknowledgement: a batch of markers alone commits with it.
    await linkedSink(id)?.commitWithOffsets("unused", []);
    await x.exchange.write(2000, [Buffer.from("records")]);
    await linkedSink(id)?.commitWithOffsets("unused", []);
    // The chunk waits for its batch's acknowledgement: the next batch's write waits too.
    let written = false;
    const third = x.exchange.write(3000, [undefined]).then(() => {
      written = true;
    });
    await admin.fetchTopicOffsets(input);
    expect(written).toBe(false);
    await linkedSink(id)?.commitWithOffsets("unused", consumed());
    await third;
    await linkedSink(id)?.commitWithOffsets("unused", []);
    expect(await x.exchange.restore(0)).toBeUndefined();
    expect(await next(x.exchange, 0)).toEqual([1000, []]);
    expect(await next(x.exchange, 0)).toEqual([2000, ["records"]]);
    expect(await next(x.exchange, 0)).toEqual([3000, []]);
  });

  it("holds one batch per map transaction: a later batch's write waits for the earlier commit", async () => {
    const { group, input, keys } = await job(1);
    const x = await exchange(group, input, "x", () => keys);
    const id = `${group}.sluice-map.x`;
    await until(() => x.owns().length === 1, WAIT_MS, "keyed partition 0 assigned");
    // Called together (a core that computes ahead): the second still waits.
    const first = x.exchange.write(1000, [Buffer.from("one")]);
    let written = false;
    const second = x.exchange.write(2000, [Buffer.from("two")]).then(() => {
      written = true;
    });
    await first;
    await admin.fetchTopicOffsets(input);
    expect(written).toBe(false);
    await linkedSink(id)?.commitWithOffsets("unused", consumed());
    await second;
    expect(await x.exchange.restore(0)).toBeUndefined();
    expect(await next(x.exchange, 0)).toEqual([1000, ["one"]]);
    await linkedSink(id)?.commitWithOffsets("unused", consumed());
    expect(await next(x.exchange, 0)).toEqual([2000, ["two"]]);
    // A process with nothing to write (no input partitions, no chunks) never waits.
    const idle = await writer(group, "idle", []);
    await idle.write(3000, [undefined]);
    await idle.write(4000, [undefined]);
  });

  it("refuses keyed topics with another partition count", async () => {
    const { group, input, keys } = await job(1);
    await createTopic(admin, `${group}.sluice-repartition`, 3);
    const refused = new KafkaKeyedExchange(
      settings(group, input, "x", () => keys, 2),
      logger,
    );
    opened.push(refused);
    await expect(refused.start(AbortSignal.timeout(WAIT_MS))).rejects.toMatchObject({
      code: "SLUICE_INVALID_CONFIG",
      message: expect.stringMatching(
        new RegExp(`"${group}\\.sluice-repartition" has 3 partitions, but the job has 2 keyed`),
      ),
    });
  });
});
