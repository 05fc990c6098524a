import fc from "fast-check";
import type { SourceRecord } from "sluice";
import { RedeliveryQueue } from "sluice/connector";
import { describe, expect, it } from "vitest";

const recordOf = (id: number, valueBytes: number, keyBytes: number | undefined): SourceRecord => ({
  value: new Uint8Array(valueBytes).fill(id % 256),
  ...(keyBytes === undefined ? {} : { key: new Uint8Array(keyBytes) }),
  headers: {},
  timestampMs: 0,
  partition: "p",
  offset: String(id),
});

describe("RedeliveryQueue", () => {
  it("gives records back oldest read first, and counts the records and bytes it holds", () => {
    const part = fc.record({
      values: fc.array(
        fc.tuple(fc.nat({ max: 64 }), fc.option(fc.nat({ max: 16 }), { nil: undefined })),
        { maxLength: 8 },
      ),
    });
    fc.assert(
      fc.property(
        fc.array(part, { maxLength: 8 }),
        fc.array(fc.nat({ max: 10 }), { maxLength: 12 }),
        (parts, takes) => {
          const queue = new RedeliveryQueue();
          let id = 0;
          // Each part is a read result; they are nacked in reverse order of reading.
          const results = parts.map((p) =>
            p.values.map(([valueBytes, keyBytes]) => recordOf(id++, valueBytes, keyBytes)),
          );
          for (let sequence = results.length - 1; sequence >= 0; sequence--) {
            queue.add(sequence, results[sequence] as SourceRecord[]);
          }
          const expected = results.flat();
          const bytes = (records: readonly SourceRecord[]) =>
            records.reduce((sum, r) => sum + r.value.byteLength + (r.key?.byteLength ?? 0), 0);
          const taken: SourceRecord[] = [];
          for (const max of [...takes, Number.POSITIVE_INFINITY]) {
            taken.push(...queue.take(max));
            const left = expected.slice(taken.length);
            expect(queue.size).toBe(left.length);
            expect(queue.byteLength).toBe(bytes(left));
          }
          expect(taken.map((record) => record.offset)).toEqual(
            expected.map((record) => record.offset),
          );
        },
      ),
    );
  });
});
