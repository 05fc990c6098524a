import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import {
  type AbortedTransaction,
  type FetchedMessage,
  withoutAborted,
} from "../src/read-committed.js";

// kafkajs's own fetch result: what its consumers hand to eachBatch from a fetched partition.
const KafkaBatch = createRequire(import.meta.url)("kafkajs/src/consumer/batch.js") as new (
  topic: string,
  fetchedOffset: string,
  partitionData: {
    partition: number;
    highWatermark: string;
    abortedTransactions: readonly AbortedTransaction[];
    messages: readonly FetchedMessage[];
  },
) => { messages: { offset: string; value: Buffer | null }[]; lastOffset(): string };

/** A log, one record batch per entry: data of a producer, or its commit or abort marker. */
type Entry =
  | { readonly producer: string; readonly values: readonly string[]; readonly plain?: true }
  | { readonly producer: string; readonly marker: "commit" | "abort" };

function messagesOf(log: readonly Entry[], from = 0): FetchedMessage[] {
  const messages: (FetchedMessage & { value: Buffer | null })[] = [];
  let offset = 0;
  for (const entry of log) {
    const values = "values" in entry ? entry.values : [null];
    const batchContext = {
      firstOffset: String(offset),
      lastOffsetDelta: values.length - 1,
      producerId: "plain" in entry ? "-1" : entry.producer,
      inTransaction: !("plain" in entry),
    };
    for (const value of values) {
      if (offset >= from) {
        messages.push({
          offset: String(offset),
          key: "marker" in entry ? Buffer.from([0, 0, 0, entry.marker === "commit" ? 1 : 0]) : null,
          value: value === null ? null : Buffer.from(value),
          isControlRecord: "marker" in entry,
          batchContext,
        });
      }
      offset++;
    }
  }
  return messages;
}

// What kafkajs's consumer hands out from a fetch of `log` at `from`, with the aborted
// transactions the broker lists (in the order of their abort markers), with or without
// withoutAborted applied to the fetch first.
function handedOut(
  log: readonly Entry[],
  aborted: readonly AbortedTransaction[],
  corrected: boolean,
  from = 0,
): string[] {
  const messages = messagesOf(log, from);
  const batch = new KafkaBatch("t", String(from), {
    partition: 0,
    highWatermark: String(messages.length + from),
    abortedTransactions: corrected ? [] : aborted,
    messages: corrected ? withoutAborted(messages, aborted) : messages,
  });
  return batch.messages.map((message) => String(message.value));
}

describe("withoutAborted (read_committed fetches)", () => {
  // A began before B; B aborted first, so the broker lists B's transaction before A's.
  const log: Entry[] = [
    { producer: "1", values: ["a1", "a2"] },
    { producer: "2", values: ["b1"] },
    { producer: "2", marker: "abort" },
    { producer: "1", marker: "abort" },
    { producer: "3", values: ["c1"] },
    { producer: "3", marker: "commit" },
  ];
  const aborted: AbortedTransaction[] = [
    { producerId: "2", firstOffset: "2" },
    { producerId: "1", firstOffset: "0" },
  ];

  it("drops a transaction that began before another and was aborted after it", () => {
    expect(handedOut(log, aborted, true)).toEqual(["c1"]);
    // kafkajs alone hands out the aborted a1 and a2 (its filter takes the list in marker order).
    expect(handedOut(log, aborted, false)).toEqual(["a1", "a2", "c1"]);
  });

  it("marks every aborted transaction a fetch starts inside of, not one per message", () => {
    const interleaved: Entry[] = [
      { producer: "1", values: ["a1"] },
      { producer: "2", values: ["b1"] },
      { producer: "2", values: ["b2"] },
      { producer: "1", values: ["a2"] },
      { producer: "1", marker: "abort" },
      { producer: "2", marker: "abort" },
      { producer: "3", values: ["c1"] },
      { producer: "3", marker: "commit" },
    ];
    const both: AbortedTransaction[] = [
      { producerId: "1", firstOffset: "0" },
      { producerId: "2", firstOffset: "1" },
    ];
    // Fetched from offset 2 (after a restore): both aborted transactions began before it.
    expect(handedOut(interleaved, both, true, 2)).toEqual(["c1"]);
    // kafkajs alone marks only the first of them at b2, which it hands out.
    expect(handedOut(interleaved, both, false, 2)).toEqual(["b2", "c1"]);
  });

  it("keeps a producer's committed transaction after its aborted one, and plain records", () => {
    const again: Entry[] = [
      { producer: "1", values: ["a1"] },
      { producer: "1", marker: "abort" },
      { producer: "9", values: ["p1"], plain: true },
      { producer: "1", values: ["a2"] },
      { producer: "1", marker: "commit" },
    ];
    expect(handedOut(again, [{ producerId: "1", firstOffset: "0" }], true)).toEqual(["p1", "a2"]);
  });

  it("moves the consumer's position past the dropped records", () => {
    const tail: Entry[] = [
      { producer: "3", values: ["c1"] },
      { producer: "3", marker: "commit" },
      { producer: "1", values: ["a1", "a2"] },
      { producer: "1", marker: "abort" },
    ];
    const messages = messagesOf(tail);
    const batch = new KafkaBatch("t", "0", {
      partition: 0,
      highWatermark: "5",
      abortedTransactions: [],
      messages: withoutAborted(messages, [{ producerId: "1", firstOffset: "2" }]),
    });
    expect(batch.messages.map((message) => String(message.value))).toEqual(["c1"]);
    expect(batch.lastOffset()).toBe("4");
  });
});
