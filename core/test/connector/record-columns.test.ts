import { deserialize, serialize } from "node:v8";
import fc from "fast-check";
import {
  type SourceRecord,
  SourceRecordColumns,
  SourceRecordColumnsBuilder,
} from "sluice/connector";
import { describe, expect, it } from "vitest";
import { ReceivedLines } from "../../src/connectors/socket/received-lines.js";
import { sliceColumns } from "../../src/input/byte-batches.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function columnsOf(lines: readonly string[], first = 0): SourceRecordColumns {
  const received = new ReceivedLines("peer:1");
  for (const line of lines) received.append(encoder.encode(line), 7);
  const columns = received.take(Number.MAX_SAFE_INTEGER);
  expect(columns.offsets).toEqual({ kind: "sequence", first: 0 });
  return first === 0
    ? columns
    : new SourceRecordColumns({ ...columns, offsets: { kind: "sequence", first } });
}

const line = fc.string({ maxLength: 12, unit: "grapheme" });

describe("SourceRecordColumns", () => {
  it("gives each row as the record a source would have made", () => {
    const columns = columnsOf(["ab", "", "é"], 10);
    expect(columns.length).toBe(3);
    expect(columns.byteLength).toBe(4);
    expect(columns.largestValueBytes()).toBe(2);
    expect(columns.lastOffset).toBe("12");
    const records = columns.records();
    expect(records.map((record) => decoder.decode(record.value))).toEqual(["ab", "", "é"]);
    expect(records.map((record) => record.offset)).toEqual(["10", "11", "12"]);
    expect(records.every((record) => record.partition === "peer:1")).toBe(true);
    expect(records.every((record) => record.timestampMs === 7)).toBe(true);
    // Made once and kept.
    expect(columns.records()).toBe(records);
  });

  it("keeps a row without a value (a tombstone) apart from an empty value, sliced and shipped too", () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(line, { nil: null }), { maxLength: 40 }),
        fc.nat(),
        fc.nat(),
        (values, a, b) => {
          const builder = new SourceRecordColumnsBuilder();
          values.forEach((value, row) => {
            builder.add("t-0", value === null ? null : encoder.encode(value), null, 1, row + 1);
          });
          const columns = builder.build();
          if (columns === undefined) return values.length === 0;
          const expected = values.map((value) => (value === null ? "<none>" : value));
          const seen = (records: readonly SourceRecord[]) =>
            records.map((record) =>
              record.tombstone === true ? "<none>" : decoder.decode(record.value),
            );
          expect(seen(columns.records())).toEqual(expected);
          expect(columns.records().every((r) => r.tombstone !== true || r.value.length === 0)).toBe(
            true,
          );
          const start = a % (values.length + 1);
          const end = start + (b % (values.length - start + 1));
          expect(seen(columns.slice(start, end).records())).toEqual(expected.slice(start, end));
          // What a message or the write-ahead log carries.
          const shipped = new SourceRecordColumns(deserialize(serialize(columns.fields())));
          expect(seen(shipped.records())).toEqual(expected);
          return true;
        },
      ),
    );
  });

  it("slices keep values, offsets and times of their rows, in a blob of their own", () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), fc.nat(), fc.nat(), (lines, a, b) => {
        const columns = columnsOf(lines, 5);
        const start = lines.length === 0 ? 0 : a % (lines.length + 1);
        const end = start + (lines.length === 0 ? 0 : b % (lines.length - start + 1));
        const slice = columns.slice(start, end);
        expect(slice.records().map((r) => decoder.decode(r.value))).toEqual(
          lines.slice(start, end),
        );
        expect(slice.records().map((r) => r.offset)).toEqual(
          lines.slice(start, end).map((_, i) => String(5 + start + i)),
        );
        expect(slice.bytes.buffer).not.toBe(columns.bytes.buffer);
      }),
    );
  });

  it("list offsets name each row's own offset", () => {
    const columns = new SourceRecordColumns({
      partition: "f.log",
      bytes: encoder.encode("abc"),
      valueOffsets: Uint32Array.of(0, 1, 3),
      timestampMs: Float64Array.of(1, 2),
      offsets: { kind: "list", offsets: ["2", "9"] },
    });
    expect(columns.records().map((r) => [r.offset, r.timestampMs])).toEqual([
      ["2", 1],
      ["9", 2],
    ]);
    expect(columns.slice(1, 2).lastOffset).toBe("9");
  });

  it("position offsets give each row its number as a string, and slice with their rows", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 2 ** 40 }), { maxLength: 30 }), fc.nat(), (ends, a) => {
        const positions = Float64Array.from(ends);
        const columns = new SourceRecordColumns({
          partition: "f.log",
          bytes: new Uint8Array(ends.length),
          valueOffsets: Uint32Array.from({ length: ends.length + 1 }, (_, i) => i),
          timestampMs: 3,
          offsets: { kind: "positions", positions },
        });
        expect(columns.records().map((r) => r.offset)).toEqual(ends.map(String));
        expect(columns.lastOffset).toBe(ends.length === 0 ? undefined : String(ends.at(-1)));
        const start = a % (ends.length + 1);
        const slice = columns.slice(start, ends.length);
        expect(slice.records().map((r) => r.offset)).toEqual(ends.slice(start).map(String));
        expect(slice.offsets.kind === "positions" && slice.offsets.positions.buffer).not.toBe(
          positions.buffer,
        );
      }),
    );
  });
});

describe("ReceivedLines", () => {
  it("hands lines over in order, numbered across takes, whatever the take sizes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(line, fc.integer({ min: 1, max: 7 })), { maxLength: 300 }),
        (steps) => {
          // A string appends a line (split into parts at its middle); a number takes that many.
          const received = new ReceivedLines("p");
          const appended: string[] = [];
          const taken: { text: string; offset: string }[] = [];
          for (const step of steps) {
            if (typeof step === "string") {
              const bytes = encoder.encode(step);
              const middle = bytes.length >> 1;
              received.append([bytes.subarray(0, middle), bytes.subarray(middle)], 1);
              appended.push(step);
            } else {
              for (const record of received.take(step).records()) {
                taken.push({ text: decoder.decode(record.value), offset: record.offset });
              }
            }
            expect(received.length).toBe(appended.length - taken.length);
          }
          for (const record of received.take(Number.MAX_SAFE_INTEGER).records()) {
            taken.push({ text: decoder.decode(record.value), offset: record.offset });
          }
          expect(taken.map((t) => t.text)).toEqual(appended);
          expect(taken.map((t) => t.offset)).toEqual(appended.map((_, i) => String(i)));
          expect(received.nextOffset).toBe(appended.length);
        },
      ),
    );
  });

  it("appends the lines of a chunk in one go as line-by-line appends would, \r\n and all", () => {
    const text = fc.array(fc.constantFrom("a", "é", "\r", " ", "xyz"), { maxLength: 6 });
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.array(fc.tuple(text, fc.boolean()), { maxLength: 40 }),
            fc.integer({ min: 1, max: 30 }),
          ),
          { maxLength: 40 },
        ),
        fc.integer({ min: 0, max: 5 }),
        (steps, padding) => {
          // An array is a chunk of lines (`\r\n` or `\n` ends each), with bytes around them that
          // are not appended; a number takes that many.
          const bulk = new ReceivedLines("p");
          const oneByOne = new ReceivedLines("p");
          const texts = (taken: ReturnType<ReceivedLines["take"]>) =>
            taken.records().map((record) => decoder.decode(record.value));
          for (const step of steps) {
            if (typeof step === "number") {
              expect(texts(bulk.take(step))).toEqual(texts(oneByOne.take(step)));
              continue;
            }
            const lines = step.map(([parts, crlf]) => parts.join("") + (crlf ? "\r\n" : "\n"));
            const body = encoder.encode(lines.join(""));
            const chunk = new Uint8Array(body.length + 2 * padding).fill(0x0a);
            chunk.set(body, padding);
            bulk.appendLines(chunk, padding, padding + body.length, 1);
            for (const line of lines) {
              // The line rule: it ends at `\n`, a `\r` just before it dropped.
              const text = line.slice(0, -1);
              oneByOne.append(encoder.encode(text.endsWith("\r") ? text.slice(0, -1) : text), 1);
            }
            expect(bulk.length).toBe(oneByOne.length);
          }
          const all = Number.MAX_SAFE_INTEGER;
          expect(texts(bulk.take(all))).toEqual(texts(oneByOne.take(all)));
        },
      ),
    );
  });

  it("grows its rows in the middle of a chunk", () => {
    const received = new ReceivedLines("p");
    const chunk = encoder.encode(Array.from({ length: 5000 }, (_, i) => `w${i}\r\n`).join(""));
    received.appendLines(chunk, 0, chunk.length, 1);
    const records = received.take(Number.MAX_SAFE_INTEGER).records();
    expect(records.map((record) => decoder.decode(record.value))).toEqual(
      Array.from({ length: 5000 }, (_, i) => `w${i}`),
    );
  });

  it("grows past its first buffer for long lines and many rows", () => {
    const received = new ReceivedLines("p");
    const long = "x".repeat(100_000);
    for (let i = 0; i < 3000; i++) received.append(encoder.encode(i === 5 ? long : `l${i}`), 1);
    const records = received.take(Number.MAX_SAFE_INTEGER).records();
    expect(records).toHaveLength(3000);
    expect(decoder.decode(records[5]?.value)).toBe(long);
    expect(decoder.decode(records[2999]?.value)).toBe("l2999");
  });
});

describe("sliceColumns", () => {
  it("cuts byte batches into near-equal contiguous partitions, as records are cut", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(line, { minLength: 1, maxLength: 9 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 5 }),
        (batches, partitions) => {
          let first = 0;
          const columns = batches.map((lines) => {
            const made = columnsOf(lines, first);
            first += lines.length;
            return made;
          });
          const rows = first;
          const sliced = sliceColumns(columns, rows, partitions);
          expect(sliced).toHaveLength(partitions);
          const texts = sliced.map((pieces) =>
            pieces.flatMap((piece) => piece.records().map((r) => decoder.decode(r.value))),
          );
          expect(texts.flat()).toEqual(batches.flat());
          texts.forEach((part, i) => {
            const start = Math.floor((i * rows) / partitions);
            const end = Math.floor(((i + 1) * rows) / partitions);
            expect(part.length).toBe(end - start);
          });
          const offsets = sliced.flatMap((pieces) =>
            pieces.flatMap((piece) => piece.records().map((r) => Number(r.offset))),
          );
          expect(offsets).toEqual(batches.flat().map((_, i) => i));
        },
      ),
    );
  });
});

/** A message as a source receives it, and the record it makes of it today. */
interface Message {
  readonly partition: string;
  readonly value: Uint8Array;
  readonly key: Uint8Array | undefined;
  readonly headers: Record<string, Uint8Array> | undefined;
  readonly timestampMs: number;
  readonly offset: number | string;
}

// Buffers, as the sources' clients give them (and as a built byte batch's rows are).
const bytes = fc.uint8Array({ maxLength: 6 }).map((array) => Buffer.from(array));
const message: fc.Arbitrary<Message> = fc.record({
  partition: fc.constantFrom("orders-0", "orders-1", "sensors/a"),
  value: bytes,
  // Empty keys are keys: only `undefined` means none.
  key: fc.option(bytes, { nil: undefined }),
  headers: fc.option(fc.dictionary(fc.constantFrom("a", "b", "trace-id"), bytes), {
    nil: undefined,
  }),
  timestampMs: fc.integer({ min: 0, max: 2 ** 42 }),
  offset: fc.oneof(
    fc.nat({ max: 2 ** 40 }),
    fc.nat().map((n) => `m-${n}`),
  ),
});
/** Runs of consecutive offsets in one partition (the "sequence" case) as often as mixtures. */
const messages = fc.oneof(
  fc.array(message, { maxLength: 30 }),
  fc
    .tuple(fc.array(message, { maxLength: 30 }), fc.nat({ max: 2 ** 40 }))
    .map(([list, first]) =>
      list.map((m, i) => ({ ...m, partition: "orders-0", offset: first + i })),
    ),
);

function recordOf(m: Message): SourceRecord {
  return {
    value: m.value,
    ...(m.key === undefined ? {} : { key: m.key }),
    headers: m.headers ?? {},
    timestampMs: m.timestampMs,
    partition: m.partition,
    offset: String(m.offset),
  };
}

function built(list: readonly Message[], lazy: boolean): SourceRecordColumns | undefined {
  // Lazy headers: the builder keeps what the source got and makes headers only when asked.
  const builder = lazy
    ? new SourceRecordColumnsBuilder((raw: { h: Record<string, Uint8Array> }) => raw.h)
    : new SourceRecordColumnsBuilder();
  for (const m of list) {
    const raw = m.headers === undefined ? undefined : lazy ? { h: m.headers } : m.headers;
    (builder as SourceRecordColumnsBuilder<unknown>).add(
      m.partition,
      m.value,
      m.key,
      m.timestampMs,
      m.offset,
      raw,
    );
  }
  return builder.build();
}

describe("SourceRecordColumns with keys, headers and partitions", () => {
  it("gives the records a source makes one by one, also sliced and after the log or a message", () => {
    fc.assert(
      fc.property(messages, fc.boolean(), fc.nat(), fc.nat(), (list, lazy, a, b) => {
        const columns = built(list, lazy);
        if (list.length === 0) {
          expect(columns).toBeUndefined();
          return;
        }
        if (columns === undefined) throw new Error("no columns built");
        const expected = list.map(recordOf);
        expect(columns.records()).toStrictEqual(expected);
        // One by one, as the ledger's replay and the socket source's readers do.
        expect(list.map((_, row) => columns.record(row))).toStrictEqual(expected);
        const start = a % (list.length + 1);
        const end = start + (b % (list.length - start + 1));
        expect(columns.slice(start, end).records()).toStrictEqual(expected.slice(start, end));
        // What the write-ahead log and an executor's message carry: plain fields.
        const revived = new SourceRecordColumns(deserialize(serialize(columns.fields())));
        expect(revived.records()).toEqual(expected);
        expect(revived.headers === undefined || revived.headers.kind === "list").toBe(true);
        const keyBytes = list.reduce((sum, m) => sum + (m.key?.length ?? 0), 0);
        const valueBytes = list.reduce((sum, m) => sum + m.value.length, 0);
        expect(columns.byteLength).toBe(keyBytes + valueBytes);
        expect(columns.largestRecordBytes()).toBe(
          Math.max(...list.map((m) => m.value.length + (m.key?.length ?? 0))),
        );
        const counts = new Map<string, number>();
        for (const m of list) counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1);
        expect(columns.rowsPerPartition()).toEqual(counts);
        expect([...columns.rowsPerPartition().keys()]).toEqual([...counts.keys()]);
      }),
    );
  });

  it("keeps offsets as numbers: a run of one partition is a sequence, gaps are positions", () => {
    const run = built(
      [0, 1, 2].map((i) => ({
        partition: "orders-0",
        value: Buffer.from(`v${i}`),
        key: undefined,
        headers: undefined,
        timestampMs: 1,
        offset: 10 + i,
      })),
      false,
    );
    expect(run?.offsets).toEqual({ kind: "sequence", first: 10 });
    expect(run?.keys).toBeUndefined();
    expect(run?.headers).toBeUndefined();
    expect(run?.partitions).toBeUndefined();
    const gaps = built(
      [10, 12, 13].map((offset) => ({
        partition: "orders-0",
        value: Buffer.alloc(0),
        key: Buffer.alloc(0),
        headers: undefined,
        timestampMs: 1,
        offset,
      })),
      false,
    );
    expect(gaps?.offsets.kind).toBe("positions");
    expect(gaps?.records().map((r) => r.offset)).toEqual(["10", "12", "13"]);
    // Empty keys, every row has one: no validity bitmap.
    expect(gaps?.keys?.present).toBeUndefined();
    expect(gaps?.records().every((r) => r.key?.length === 0)).toBe(true);
  });

  it("copies large batches (past Buffer's pool) and long keys the same way", () => {
    const builder = new SourceRecordColumnsBuilder();
    const values = Array.from({ length: 3000 }, (_, i) => Buffer.from(`value ${i}`));
    const keys = values.map((_, i) =>
      i % 3 === 0 ? undefined : Buffer.from(`key-${"k".repeat(i % 40)}`),
    );
    for (const [i, value] of values.entries()) builder.add("p", value, keys[i], 1, i);
    const columns = builder.build() as SourceRecordColumns;
    expect(columns.bytes.byteLength).toBeGreaterThan(Buffer.poolSize);
    expect(columns.bytes.buffer.byteLength).toBe(columns.bytes.byteLength);
    expect(columns.records().map((r) => r.value)).toEqual(values);
    expect(columns.records().map((r) => r.key)).toEqual(keys);
    expect(columns.offsets).toEqual({ kind: "sequence", first: 0 });
  });

  it("makes headers kept lazily only for the rows asked for", () => {
    let made = 0;
    const builder = new SourceRecordColumnsBuilder((raw: string) => {
      made++;
      return { h: encoder.encode(raw) };
    });
    builder.add("p", encoder.encode("a"), undefined, 1, 0, "x");
    builder.add("p", encoder.encode("b"), undefined, 1, 1);
    const columns = builder.build() as SourceRecordColumns;
    expect(columns.values.keys).toEqual(Buffer.from("ab"));
    expect(made).toBe(0);
    expect(decoder.decode(columns.record(0).headers.h)).toBe("x");
    expect(columns.record(1).headers).toEqual({});
    expect(made).toBe(1);
  });
});
