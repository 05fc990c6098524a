// The Kafka source paired with a sink by transactionalId, without a broker: its offsets commit
// in the sink's transaction, one commit at a time, and an acknowledgement made while a commit
// is under way gets a commit of its own after it (that commit already took its offsets).
import type { ClusterMembership, ReadResult } from "sluice/connector";
import { afterEach, describe, expect, it } from "vitest";
import type { FenceRecord } from "../src/cluster-fence.js";
import type { KafkaSource } from "../src/kafka-source.js";
import {
  attachSink,
  type ConsumedOffset,
  type LinkedSink,
  linkedSource,
} from "../src/transaction-link.js";
import { type FakeConsumer, fakeFenceClient, fakeKafkaSource } from "./fake-kafka.js";

const signal = () => AbortSignal.timeout(5_000);

/** A commit the sink was asked for, waiting for the test to end it. */
interface HeldCommit {
  /** The offsets it carries, as `"<topic>-<partition>@<offset>"`. */
  readonly offsets: readonly string[];
  readonly fence: FenceRecord | undefined;
  release(): void;
  fail(error: Error): void;
}

/** A paired sink whose every commit stays open until the test releases or fails it. */
class HeldSink implements LinkedSink {
  /** The offsets of every commit released, in order. */
  readonly committed: (readonly string[])[] = [];
  readonly held: HeldCommit[] = [];
  /** The most commits open at once. */
  maxOpen = 0;
  #open = 0;
  #arrived: (() => void)[] = [];

  commitWithOffsets(
    _groupId: string,
    offsets: readonly ConsumedOffset[],
    fence?: FenceRecord,
  ): Promise<void> {
    this.#open++;
    this.maxOpen = Math.max(this.maxOpen, this.#open);
    const shown = offsets.map(({ topic, partition, offset }) => `${topic}-${partition}@${offset}`);
    const commit = new Promise<void>((resolve, reject) => {
      this.held.push({
        offsets: shown,
        fence,
        release: () => {
          this.committed.push(shown);
          resolve();
        },
        fail: reject,
      });
    });
    for (const wake of this.#arrived.splice(0)) wake();
    return commit.finally(() => {
      this.#open--;
    });
  }

  async abortOpen(): Promise<void> {}

  /** The `n`th commit asked for (from 1), once it is. */
  async asked(n: number): Promise<HeldCommit> {
    while (this.held.length < n) await new Promise<void>((wake) => this.#arrived.push(wake));
    return this.held[n - 1] as HeldCommit;
  }
}

/** Lets the event loop run a few turns (the source batches acknowledgements by turn). */
async function turns(count = 3): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * The `n`th commit; fails at once if `acknowledged` settles first: the acknowledgement would
 * have been reported done without the commit of its offsets.
 */
function commitBefore(sink: HeldSink, n: number, acknowledged: Promise<unknown>) {
  return Promise.race([
    sink.asked(n),
    acknowledged.then(
      () => {
        throw new Error(`the acknowledgement settled before commit ${n} was asked for`);
      },
      (error: unknown) => {
        throw new Error(`the acknowledgement failed before commit ${n} was asked for`, {
          cause: error,
        });
      },
    ),
  ]);
}

/** Tracks whether a promise settled yet. */
function watched(promise: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  void promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

let ids = 0;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A connected paired source over orders-0 holding offsets 0 to 3, and its held sink. */
async function pairedSource(
  cluster = false,
): Promise<{ source: KafkaSource; consumer: FakeConsumer; sink: HeldSink; id: string }> {
  const id = `linked-commit-${++ids}`;
  const sink = new HeldSink();
  cleanups.push(attachSink(id, sink));
  const membership: ClusterMembership = {
    group: "unit",
    processId: "p1",
    kafka: { brokers: ["127.0.0.1:9"] },
    keyedPartitions: undefined,
    reportPartitions: () => undefined,
    offerKeyedExchange: () => undefined,
  };
  const { source, consumer } = await fakeKafkaSource(
    { orders: [0] },
    { transactionalId: id },
    cluster ? { membership, connectorId: "kafka-1", fenceClient: fakeFenceClient() } : undefined,
  );
  cleanups.push(() => source.close());
  await consumer.deliver("orders", 0, [0, 1, 2, 3], 4);
  return { source, consumer, sink, id };
}

async function readOne(source: KafkaSource): Promise<ReadResult> {
  const read = await source.read(signal(), { maxRecords: 1 });
  expect(read.records).toHaveLength(1);
  return read;
}

describe("KafkaSource paired commits (transactionalId)", () => {
  it("commits the reads acknowledged in one turn together, in one transaction", async () => {
    const { source, sink } = await pairedSource();
    const first = await readOne(source);
    const second = await readOne(source);
    const acknowledged = Promise.all([first.ack(), second.ack()]);
    (await sink.asked(1)).release();
    await acknowledged;
    expect(sink.committed).toEqual([["orders-0@2"]]);
  });

  it("commits an acknowledgement made during a commit after it, before reporting it done", async () => {
    const { source, sink, id } = await pairedSource();
    const first = await readOne(source);
    const firstAck = Promise.resolve(first.ack());
    const firstCommit = await sink.asked(1);
    expect(firstCommit.offsets).toEqual(["orders-0@1"]);

    // The first commit already took its offsets: this acknowledgement comes too late for it.
    const second = await readOne(source);
    const secondAck = Promise.resolve(second.ack());
    const secondState = watched(secondAck);
    // A write of the next batch waits for the commit that takes this acknowledgement.
    const pending = linkedSource(id)?.pendingCommit;
    expect(pending).toBeDefined();
    const pendingState = watched(pending ?? Promise.resolve());
    await turns();
    expect(secondState.settled).toBe(false);

    firstCommit.release();
    await firstAck;
    const followUp = await commitBefore(sink, 2, secondAck);
    expect(followUp.offsets).toEqual(["orders-0@2"]);
    await turns();
    expect(secondState.settled).toBe(false);
    expect(pendingState.settled).toBe(false);
    followUp.release();
    await secondAck;
    await pending;
    expect(sink.committed).toEqual([["orders-0@1"], ["orders-0@2"]]);
    expect(sink.maxOpen).toBe(1);
  });

  it("gives every acknowledgement made during a commit one follow-up commit", async () => {
    const { source, sink } = await pairedSource();
    const first = await readOne(source);
    void first.ack();
    const firstCommit = await sink.asked(1);

    const second = await readOne(source);
    const third = await readOne(source);
    const secondAck = Promise.resolve(second.ack());
    await turns();
    const thirdAck = Promise.resolve(third.ack());
    await turns();
    // A checkpoint's call made now joins that follow-up too.
    const checkpointed = source.checkpointed();
    await turns();
    expect(sink.held).toHaveLength(1);

    firstCommit.release();
    const followUp = await commitBefore(sink, 2, Promise.all([secondAck, thirdAck]));
    expect(followUp.offsets).toEqual(["orders-0@3"]);
    followUp.release();
    await Promise.all([secondAck, thirdAck, checkpointed]);
    expect(sink.committed).toEqual([["orders-0@1"], ["orders-0@3"]]);
    expect(sink.maxOpen).toBe(1);
  });

  it("commits nothing after a failed transaction, and later acknowledgements still settle", async () => {
    const { source, sink } = await pairedSource();
    const first = await readOne(source);
    const firstAck = Promise.resolve(first.ack());
    const firstCommit = await sink.asked(1);

    const second = await readOne(source);
    const secondAck = Promise.resolve(second.ack());
    secondAck.catch(() => undefined);
    firstCommit.fail(new Error("transaction fenced"));
    // The failure goes to the source's next read; the acknowledgement itself resolves.
    await firstAck;
    // The rolled-back transaction held the first read's outputs: committing its offsets with
    // the second read's would lose them.
    const committedAgain = sink.asked(2).then(() => "a commit was asked for after the failure");
    await expect(Promise.race([secondAck, committedAgain])).rejects.toThrow(
      /transaction "linked-commit-\d+".*failed/,
    );
    const third = source.read(signal(), { maxRecords: 1 });
    await expect(third).rejects.toThrow(/transaction fenced/);
    // The chain is not stuck on the failure: a later commit settles too.
    await expect(source.checkpointed()).rejects.toThrow(/failed/);
    expect(sink.held).toHaveLength(1);
    expect(sink.committed).toEqual([]);
  });

  it("in cluster mode, commits an acknowledgement made during a commit after it, with a fence record", async () => {
    const { source, sink } = await pairedSource(true);
    const first = await readOne(source);
    const firstAck = Promise.resolve(first.ack());
    const firstCommit = await sink.asked(1);
    expect(firstCommit.offsets).toEqual(["orders-0@1"]);

    const second = await readOne(source);
    const secondAck = Promise.resolve(second.ack());
    const secondState = watched(secondAck);
    await turns();
    expect(secondState.settled).toBe(false);

    firstCommit.release();
    await firstAck;
    const followUp = await commitBefore(sink, 2, secondAck);
    expect(followUp.offsets).toEqual(["orders-0@2"]);
    followUp.release();
    await secondAck;
    expect(sink.committed).toEqual([["orders-0@1"], ["orders-0@2"]]);
    expect(sink.held.map(({ fence }) => fence?.topic)).toEqual([
      "unit.sluice-fence",
      "unit.sluice-fence",
    ]);
    expect(sink.maxOpen).toBe(1);
    expect(source.metrics.acks).toBe(2);
  });
});
