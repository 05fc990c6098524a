import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AssembledBatch,
  type AssemblerSnapshot,
  BatchAssembler,
  type ExchangeRecord,
} from "../src/keyed/batch-assembler.js";
import { decodeChangelogEntry, encodeChangelogEntry } from "../src/keyed/changelog-entry.js";

const INPUTS = ["in-0", "in-1", "in-2"];

function chunk(offset: number, time: number, label: string): ExchangeRecord {
  return { kind: "chunk", offset: BigInt(offset), time, bytes: Buffer.from(label) };
}

function marker(offset: number, time: number, input: string): ExchangeRecord {
  return { kind: "marker", offset: BigInt(offset), time, input };
}

function labels(batch: AssembledBatch | undefined): [number, string[]] | undefined {
  return batch === undefined
    ? undefined
    : [batch.time, batch.chunks.map((bytes) => Buffer.from(bytes).toString())];
}

/** Feeds records and hands out every batch complete after each record. */
function runEagerly(
  assembler: BatchAssembler,
  records: readonly ExchangeRecord[],
  onBatch: (batch: AssembledBatch, snapshot: AssemblerSnapshot) => void = () => undefined,
): [number, string[]][] {
  const batches: [number, string[]][] = [];
  const drain = (): void => {
    for (let batch = assembler.takeComplete(); batch; batch = assembler.takeComplete()) {
      batches.push(labels(batch) as [number, string[]]);
      onBatch(batch, assembler.snapshot());
    }
  };
  drain();
  for (const record of records) {
    assembler.feed(record);
    drain();
  }
  return batches;
}

describe("BatchAssembler", () => {
  it("completes a batch once every input has a marker at its time, chunks in log order", () => {
    const assembler = new BatchAssembler(INPUTS);
    assembler.feed(chunk(0, 10, "a"));
    assembler.feed(marker(1, 10, "in-0"));
    assembler.feed(chunk(2, 10, "b"));
    assembler.feed(marker(3, 10, "in-1"));
    expect(assembler.takeComplete()).toBeUndefined();
    assembler.feed(marker(4, 10, "in-2"));
    expect(labels(assembler.takeComplete())).toEqual([10, ["a", "b"]]);
    expect(assembler.takeComplete()).toBeUndefined();
    expect(assembler.position).toBe(5n);
  });

  it("completes empty batches from markers alone, each time seen once", () => {
    const records = [10, 20, 30].flatMap((time, index) =>
      INPUTS.map((input, i) => marker(index * 3 + i, time, input)),
    );
    expect(runEagerly(new BatchAssembler(INPUTS), records)).toEqual([
      [10, []],
      [20, []],
      [30, []],
    ]);
  });

  it("hands out times one input skipped, seen in another input's markers", () => {
    const records = [
      marker(0, 10, "in-0"),
      marker(1, 20, "in-0"),
      marker(2, 30, "in-0"),
      marker(3, 30, "in-1"),
      marker(4, 30, "in-2"),
    ];
    expect(runEagerly(new BatchAssembler(INPUTS), records)).toEqual([
      [10, []],
      [20, []],
      [30, []],
    ]);
  });

  it("puts a chunk for a time already handed out into the next batch", () => {
    const records = [
      ...INPUTS.map((input, i) => marker(i, 10, input)),
      chunk(3, 5, "late"),
      chunk(4, 20, "on-time"),
      ...INPUTS.map((input, i) => marker(5 + i, 20, input)),
    ];
    expect(runEagerly(new BatchAssembler(INPUTS), records)).toEqual([
      [10, []],
      [20, ["late", "on-time"]],
    ]);
  });

  it("ignores records before its position (an overlapping fetch)", () => {
    const assembler = new BatchAssembler(INPUTS);
    assembler.feed(chunk(5, 10, "a"));
    assembler.feed(chunk(3, 10, "old"));
    for (const [i, input] of INPUTS.entries()) assembler.feed(marker(6 + i, 10, input));
    expect(labels(assembler.takeComplete())).toEqual([10, ["a"]]);
  });

  it("round-trips its snapshot through a changelog entry", () => {
    const assembler = new BatchAssembler(INPUTS);
    assembler.feed(marker(0, 10, "in-0"));
    assembler.feed(chunk(1, 20, "x"));
    const entry = { time: 10, state: Buffer.from("state"), assembly: assembler.snapshot() };
    const decoded = decodeChangelogEntry(encodeChangelogEntry(entry), "test");
    expect(decoded.time).toBe(10);
    expect(Buffer.from(decoded.state).toString()).toBe("state");
    expect(decoded.assembly.position).toBe(2n);
    expect([...decoded.assembly.markers]).toEqual([["in-0", 10]]);
    expect(decoded.assembly.times).toEqual([10]);
    expect(decoded.assembly.pending.map((p) => [p.time, Buffer.from(p.bytes).toString()])).toEqual([
      [20, "x"],
    ]);
    // Restored, the pending chunk waits for its markers in bytes of its own, not in a view into
    // the changelog record (the state and more); it is handed out unchanged.
    const restored = new BatchAssembler(INPUTS, decoded.assembly);
    const [held] = restored.snapshot().pending;
    expect([held?.bytes.byteOffset, held?.bytes.buffer.byteLength]).toEqual([0, 1]);
    expect(restored.snapshot().pending[0]?.bytes).toBe(held?.bytes);
    for (const [i, input] of INPUTS.entries()) restored.feed(marker(2 + i, 20, input));
    expect(labels(restored.takeComplete())).toEqual([10, []]);
    const batch = restored.takeComplete();
    expect(labels(batch)).toEqual([20, ["x"]]);
    expect(batch?.chunks[0]).toBe(held?.bytes);
    expect(() => decodeChangelogEntry(Buffer.from([9, 0]), "changelog 3")).toThrow(/changelog 3/);
  });

  // A log as map sides write it: per batch time, each writer (owning some inputs; ownership
  // moves between times, clocks differ by writer) writes a chunk or not, then its markers; the
  // writers' transactions interleave.
  const logs = fc
    .array(
      fc.record({
        time: fc.integer({ min: 1, max: 12 }),
        owned: fc.subarray(INPUTS, { minLength: 1 }),
        chunk: fc.boolean(),
      }),
      { minLength: 1, maxLength: 40 },
    )
    .chain((writes) =>
      fc
        .array(fc.integer({ min: 1, max: 3 }), {
          minLength: writes.length * 4,
          maxLength: writes.length * 4,
        })
        .map((gaps) => {
          const records: ExchangeRecord[] = [];
          let offset = 0;
          let gap = 0;
          const next = (): number => {
            offset += gaps[gap++ % gaps.length] ?? 1;
            return offset;
          };
          for (const [index, { time, owned, chunk: hasChunk }] of writes.entries()) {
            if (hasChunk) records.push(chunk(next(), time * 10, `c${index}`));
            for (const input of owned) records.push(marker(next(), time * 10, input));
          }
          return records;
        }),
    );

  it("replays from any snapshot to the same batches (property)", () => {
    fc.assert(
      fc.property(logs, fc.nat(), (records, pick) => {
        const snapshots: AssemblerSnapshot[] = [];
        const all = runEagerly(new BatchAssembler(INPUTS), records, (_, snapshot) =>
          snapshots.push(snapshot),
        );
        if (snapshots.length === 0) return;
        const at = pick % snapshots.length;
        const snapshot = snapshots[at] as AssemblerSnapshot;
        // Through the changelog's encoding, as a restore reads it.
        const restored = decodeChangelogEntry(
          encodeChangelogEntry({
            time: snapshot.completed ?? 0,
            state: new Uint8Array(),
            assembly: snapshot,
          }),
          "test",
        ).assembly;
        const position = restored.position ?? 0n;
        const replay = runEagerly(
          new BatchAssembler(INPUTS, restored),
          records.filter((record) => record.offset >= position),
        );
        expect(replay).toEqual(all.slice(at + 1));
      }),
      { numRuns: 300 },
    );
  });

  it("hands out every chunk once, in increasing batch times, the same when read lazily (property)", () => {
    fc.assert(
      fc.property(logs, (records) => {
        const eager = runEagerly(new BatchAssembler(INPUTS), records);
        const times = eager.map(([time]) => time);
        expect([...times].sort((a, b) => a - b)).toEqual(times);
        expect(new Set(times).size).toBe(times.length);
        const assembler = new BatchAssembler(INPUTS);
        // Lazily: a record is read only when no batch is complete (as nextBatch reads).
        const lazy: [number, string[]][] = [];
        let next = 0;
        for (;;) {
          const batch = assembler.takeComplete();
          if (batch !== undefined) {
            lazy.push(labels(batch) as [number, string[]]);
            continue;
          }
          const record = records[next++];
          if (record === undefined) break;
          assembler.feed(record);
        }
        expect(lazy).toEqual(eager);
        const handedOut = eager.flatMap(([, chunks]) => chunks);
        const pending = assembler.snapshot().pending.map((p) => Buffer.from(p.bytes).toString());
        const written = records.flatMap((r) =>
          r.kind === "chunk" ? [Buffer.from(r.bytes).toString()] : [],
        );
        expect([...handedOut, ...pending].sort()).toEqual([...written].sort());
      }),
      { numRuns: 300 },
    );
  });
});
