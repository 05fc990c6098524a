// The kit checks itself here against a sink whose connection can be dropped: the built-in
// sinks have no connection, so their suites declare the reconnect case not applicable.

import type { SinkRecord } from "sluice";
import { defineSink, NotConnectedError, type Sink } from "sluice/connector";
import { describeSinkConformance } from "sluice/testing/conformance";
import { z } from "zod";

/** Keeps written batches keyed by idempotency key (so replays overwrite) until dropped. */
class DroppableSink implements Sink {
  connected = false;
  closed = false;
  constructor(readonly store: Map<string, { time: number; values: Uint8Array[] }>) {}
  async connect(): Promise<void> {
    this.connected = true;
  }
  async writeBatch(
    records: readonly SinkRecord[],
    context: { batchTime: number; idempotencyKey: string },
  ) {
    if (this.closed) throw new Error("closed");
    if (!this.connected) throw new NotConnectedError("the connection was dropped");
    if (records.length === 0) return;
    this.store.set(context.idempotencyKey, {
      time: context.batchTime,
      values: records.map((record) => record.value),
    });
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

describeSinkConformance(
  "droppable in-memory sink",
  () => {
    const store = new Map<string, { time: number; values: Uint8Array[] }>();
    return {
      plugin: defineSink({
        name: "droppable",
        version: "1.0.0",
        config: z.strictObject({ table: z.string().min(1), replicas: z.int().min(1) }),
        capabilities: { idempotent: true },
        create: () => new DroppableSink(store),
      }),
      config: { table: "t", replicas: 1 },
      readBack: async () =>
        [...store.values()].sort((a, b) => a.time - b.time).flatMap((batch) => batch.values),
      dropConnections: async (sink) => {
        (sink as DroppableSink).connected = false;
      },
    };
  },
  { invalidConfig: { config: { table: "", replicas: 0 }, paths: ["table", "replicas"] } },
);
