// Columnar partitions cross to executors as their columns: a task reading a shipped byte batch
// or text column computes what it computes from the same records sent one by one.
import { deserialize, serialize } from "node:v8";
import { type DStream, type SourceRecord, StreamingContext } from "sluice";
import { JsKernels } from "sluice/advanced";
import { SourceRecordColumns, SourceRecordColumnsBuilder } from "sluice/connector";
import { ManualClock, TestInputDStream } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { materialise } from "../../src/dstream/columnar-batch.js";
import { runTask } from "../../src/execution/partition-work.js";
import { revived, shippable } from "../../src/execution/shipped-columns.js";
import { keyColumnFromStrings } from "../../src/kernels/key-column.js";

const decoder = new TextDecoder();

/** What postMessage does to a value: the structured clone algorithm (classes lost, arrays copied). */
function clone<T>(value: T): T {
  return deserialize(serialize(value)) as T;
}
const kernels = new JsKernels();

function byteBatch(lines: readonly string[], first: number): SourceRecordColumns {
  const { keys, offsets } = keyColumnFromStrings(lines);
  return new SourceRecordColumns({
    partition: "peer",
    bytes: keys,
    valueOffsets: offsets,
    timestampMs: 5,
    offsets: { kind: "sequence", first },
  });
}

function graph(): { streams: ReadonlyMap<number, DStream<unknown>>; id: number } {
  const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
  const input = new TestInputDStream<SourceRecord>(ctx, [], 1);
  const out = input.map((record) => `${record.offset}:${decoder.decode(record.value)}`);
  return { streams: ctx.scope.streams, id: out.id };
}

describe("columns shipped to an executor", () => {
  it("survive the message as columns and give the task the same records", () => {
    const partition = {
      kind: "records" as const,
      pieces: [byteBatch(["a b", "é"], 3), byteBatch(["", "c"], 5)],
    };
    const arrived = clone(shippable(partition));
    expect(materialise(revived(arrived))).toEqual(materialise(partition));
    const { streams, id } = graph();
    const result = runTask(
      streams,
      {
        jobKey: 1,
        time: 1000,
        partition: 0,
        streamId: id,
        chain: [id],
        input: { kind: "columns", columns: arrived },
        output: { kind: "records" },
      },
      kernels,
    );
    expect(result).toMatchObject({ kind: "records", records: ["3:a b", "4:é", "5:", "6:c"] });
  });

  it("carry keys, headers made on demand and each row's partition", () => {
    const builder = new SourceRecordColumnsBuilder((trace: string) => ({
      trace: new TextEncoder().encode(trace),
    }));
    builder.add("orders-1", Buffer.from("v1"), Buffer.from("k1"), 7, 41, "t1");
    builder.add("orders-0", Buffer.from("v2"), undefined, 8, 3);
    const partition = {
      kind: "records" as const,
      pieces: [builder.build() as SourceRecordColumns],
    };
    const arrived = revived(clone(shippable(partition)));
    expect(materialise(arrived)).toEqual(materialise(partition));
    expect(
      (materialise(arrived) as SourceRecord[]).map((r) => [r.partition, r.key?.length, r.headers]),
    ).toEqual([
      ["orders-1", 2, { trace: new TextEncoder().encode("t1") }],
      ["orders-0", undefined, {}],
    ]);
  });

  it("text columns pass unchanged and decode to their strings", () => {
    const text = { kind: "text" as const, keys: keyColumnFromStrings(["x", "yz"]) };
    expect(materialise(revived(clone(shippable(text))))).toEqual(["x", "yz"]);
  });
});

describe("columns shipped to a column-mapped operator", () => {
  it("are handed to it as they arrived, and the rest of the chain gets its records", () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    const input = new TestInputDStream<[string, number]>(ctx, [], 1);
    const given: Uint8Array[] = [];
    const sizes = input.mapPairColumns(({ rows, keys, values }, partition) => {
      given.push(keys.bytes);
      return Array.from({ length: rows }, (_, row) => [
        partition,
        (keys.offsets[row + 1] as number) - (keys.offsets[row] as number),
        values[row] as number,
      ]);
    });
    const out = sizes.map(([partition, bytes, count]) => `${partition}:${bytes}:${count}`);
    const arrived = clone(
      shippable({ kind: "pairs", keys: keyColumnFromStrings(["ab", "é"]), values: 3 }),
    );
    const result = runTask(
      ctx.scope.streams,
      {
        jobKey: 1,
        time: 1000,
        partition: 1,
        streamId: out.id,
        chain: [sizes.id, out.id],
        input: { kind: "columns", columns: arrived },
        output: { kind: "records" },
      },
      kernels,
    );
    expect(result).toMatchObject({ kind: "records", records: ["1:2:3", "1:2:3"] });
    // Not decoded into strings and encoded again: the very bytes that arrived.
    expect(given).toHaveLength(1);
    expect(given[0]).toBe((arrived as { keys: { keys: Uint8Array } }).keys.keys);
  });
});
