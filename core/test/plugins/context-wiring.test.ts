import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  batchRecords,
  closeConnectorsOf,
  connectorsOf,
  SluiceError,
  StreamingContext,
} from "sluice";
import type { SourceInputDStream } from "sluice/advanced";
import { ManualClock } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FedSource, fedPlugin, text } from "./fed-source.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-context-wiring-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("ctx.source and stream.sink", () => {
  it("acknowledges a batch's reads once its outputs ran, and nacks them when an output failed", async () => {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    const source = new FedSource();
    const stream = ctx.source(fedPlugin(source), {}) as SourceInputDStream;
    const seen: [number, string[]][] = [];
    stream.map(text).foreachBatch((batch, time) => {
      seen.push([time, batchRecords(batch)]);
      if (time === 1000) throw new Error("the output failed");
    });
    ctx.awaitTermination().catch(() => undefined);
    await ctx.start();

    source.feed("a", "b");
    await vi.waitFor(() => expect(stream.hasPendingData()).toBe(true));
    clock.advance(1000);
    await vi.waitFor(() => expect(source.acks).toEqual(["nack a,b"]));
    expect(source.closed).toBe(false);

    await vi.waitFor(() => expect(stream.hasPendingData()).toBe(true));
    clock.advance(1000);
    await vi.waitFor(() => expect(source.acks).toEqual(["nack a,b", "ack a,b"]));
    expect(seen).toEqual([
      [1000, ["a", "b"]],
      [2000, ["a", "b"]],
    ]);

    await ctx.stop();
    await vi.waitFor(() => expect(source.closed).toBe(true));
  });

  it("runs the file source into the file sink, one file per partition", async () => {
    const [input, output] = [join(root, "in"), join(root, "out")];
    await mkdir(input);
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 2 });
    const lines = ctx.source("file", {
      directory: input,
      pollIntervalMs: 20,
    }) as SourceInputDStream;
    lines
      .map((record) => text(record).toUpperCase())
      .sink("file", { directory: output, prefix: "upper" });
    await ctx.start();

    await writeFile(join(root, "batch.tmp"), "x\ny\nz\n");
    await rename(join(root, "batch.tmp"), join(input, "batch.txt"));
    await vi.waitFor(() => expect(lines.hasPendingData()).toBe(true));
    clock.advance(1000);
    await vi.waitFor(async () =>
      expect(await readdir(output)).toEqual([
        "upper-0000000000001000-00000.txt",
        "upper-0000000000001000-00001.txt",
      ]),
    );
    const written = await Promise.all(
      (await readdir(output)).sort().map((name) => readFile(join(output, name), "utf8")),
    );
    expect(written).toEqual(["X\n", "Y\nZ\n"]);
    await ctx.stop({ graceful: true });
    await closeConnectorsOf(ctx);
    expect(connectorsOf(ctx).disposed).toBe(true);
  });

  it("validates config when the job is defined, not when it runs", () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    let error: unknown;
    try {
      ctx.source("file", { directory: "", format: "xml" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe("SLUICE_INVALID_CONFIG");
    expect((error as Error).message).toContain('Invalid config for source "file" (2 problems)');
    const stream = ctx.queueStream<string>([]);
    expect(() => stream.sink("kafka", {})).toThrow('No sink connector named "kafka"');
  });

  it("refuses new sources once started, without creating a connector", async () => {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.queueStream<string>([]).print();
    await ctx.start();
    expect(() => ctx.source("socket", { host: "127.0.0.1", port: 1 })).toThrow(
      "after starting a context is not supported",
    );
    await ctx.stop();
    await closeConnectorsOf(ctx);
  });

  it("registers plugins with ctx.use and closes their connectors before stop() resolves", async () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    const source = new FedSource();
    ctx.use(fedPlugin(source)).source("fed", {}).map(text).print();
    await ctx.start();
    await ctx.stop();
    expect(source.closed).toBe(true);
    expect(connectorsOf(ctx).disposed).toBe(true);
    expect(() => ctx.use(fedPlugin(new FedSource()))).toThrow(SluiceError);
  });

  it("fails loadPlugins naming a package that is not installed", async () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    await expect(ctx.loadPlugins(["@sluice-missing/not-a-package"])).rejects.toThrow(
      "@sluice-missing/not-a-package",
    );
    await ctx.stop();
  });

  it("gives each context its own connectors", async () => {
    const a = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    const b = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    const source = new FedSource();
    a.source(fedPlugin(source), {});
    expect(connectorsOf(a)).not.toBe(connectorsOf(b));
    expect(() => b.source("fed", {})).toThrow('No source connector named "fed"');
    await a.stop();
    await vi.waitFor(() => expect(source.closed).toBe(true));
    expect(connectorsOf(b).disposed).toBe(false);
    await b.stop();
  });
});
