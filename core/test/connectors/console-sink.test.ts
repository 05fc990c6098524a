import { PassThrough } from "node:stream";
import { createConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { describe, expect, it } from "vitest";

const encoder = new TextEncoder();

async function printed(config: object, batches: [string[], number][]): Promise<[string, string]> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough().on("data", (chunk: Buffer) => out.push(String(chunk)));
  const stderr = new PassThrough().on("data", (chunk: Buffer) => err.push(String(chunk)));
  const registry = createConnectorRegistry({
    logger: new LogCapture().logger,
    consoleStreams: { stdout, stderr },
  });
  const sink = registry.createSink("console", config).connector;
  await sink.connect(AbortSignal.timeout(5_000));
  for (const [values, partition] of batches) {
    await sink.writeBatch(
      values.map((value) => ({ value: encoder.encode(value) })),
      { batchTime: 1_700_000_000_000, partition, idempotencyKey: "k" },
    );
  }
  await registry.dispose();
  return [out.join(""), err.join("")];
}

describe("console sink", () => {
  it("prints like Spark's print(): a header with the batch time, then the first records", async () => {
    const [out] = await printed({ maxRecords: 2 }, [
      [["a", "b", "c"], 0],
      [["d"], 2],
    ]);
    expect(out).toBe(
      [
        "-------------------------------------------",
        "Time: 1700000000000 ms",
        "-------------------------------------------",
        "a",
        "b",
        "...",
        "",
        "-------------------------------------------",
        "Time: 1700000000000 ms (partition 2)",
        "-------------------------------------------",
        "d",
        "",
        "",
      ].join("\n"),
    );
  });

  it("prints to stderr and as hex when asked", async () => {
    const [out, err] = await printed({ stream: "stderr", encoding: "hex" }, [[["hi"], 0]]);
    expect(out).toBe("");
    expect(err).toContain("\n6869\n");
  });
});
