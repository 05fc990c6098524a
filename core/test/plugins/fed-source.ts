import type { SourceRecord } from "sluice";
import { defineSource, type ReadResult, type Source } from "sluice/connector";
import { z } from "zod";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A record's value as text. */
export const text = (record: { readonly value: Uint8Array }) => decoder.decode(record.value);

/**
 * An in-memory source the test feeds: it records the acknowledgement of every read that brought
 * records ("ack a,b" or "nack a,b") and hands nacked records out again.
 *
 * @example
 * const source = new FedSource();
 * ctx.source(fedPlugin(source), {});
 * source.feed("a", "b");
 */
export class FedSource implements Source {
  readonly acks: string[] = [];
  closed = false;
  private pending: SourceRecord[] = [];
  private wake: (() => void) | undefined;
  private offset = 0;

  /** Queues one record per value, read by the next read. */
  feed(...values: string[]): void {
    for (const value of values) {
      this.pending.push({
        value: encoder.encode(value),
        headers: {},
        timestampMs: 0,
        partition: "fed",
        offset: String(this.offset++),
      });
    }
    this.wake?.();
  }

  async connect(): Promise<void> {}

  async read(signal: AbortSignal): Promise<ReadResult> {
    while (this.pending.length === 0 && !signal.aborted && !this.closed) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    const records = this.pending.splice(0);
    return {
      records,
      ack: (error?: unknown) => {
        if (records.length === 0) return;
        this.acks.push(`${error === undefined ? "ack" : "nack"} ${records.map(text).join(",")}`);
        if (error !== undefined) {
          this.pending.unshift(...records);
          this.wake?.();
        }
      },
    };
  }

  pause(): void {}
  resume(): void {}
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
  }
}

/**
 * The `fed` source plugin (not replayable) that hands out `source`.
 *
 * @example
 * ctx.source(fedPlugin(new FedSource()), {});
 */
export function fedPlugin(source: FedSource) {
  return defineSource({
    name: "fed",
    version: "1.0.0",
    config: z.strictObject({}),
    capabilities: { replayable: false },
    create: () => source,
  });
}
