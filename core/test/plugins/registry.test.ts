import "reflect-metadata";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { inspect } from "node:util";
import { SluiceError } from "sluice";
import { ConnectorRegistry, createConnectorRegistry } from "sluice/advanced";
import {
  CONSOLE_STREAMS,
  defineSource,
  SINK_PLUGIN,
  SOURCE_PLUGIN,
  serviceToken,
} from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { container as globalContainer } from "tsyringe";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type FakeSink,
  FakeSource,
  fakeSinkPlugin,
  fakeSourcePlugin,
  type Journal,
} from "./fake-connectors.js";

function thrown(action: () => unknown): SluiceError {
  try {
    action();
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error("nothing was thrown");
}

const quiet = () => new LogCapture().logger;

describe("ConnectorRegistry", () => {
  it("registers the built-in connectors explicitly, and only in itself", async () => {
    const registry = createConnectorRegistry({ logger: quiet() });
    expect(registry.sourcePlugins().map((plugin) => plugin.name)).toEqual(["file", "socket"]);
    expect(registry.sinkPlugins().map((plugin) => plugin.name)).toEqual(["file", "console"]);
    expect(registry.sourcePlugin("file").capabilities.replayable).toBe(true);
    expect(registry.sourcePlugin("socket").capabilities.replayable).toBe(false);
    // Nothing leaks into tsyringe's global container.
    expect(globalContainer.isRegistered(SOURCE_PLUGIN, true)).toBe(false);
    expect(globalContainer.isRegistered(SINK_PLUGIN, true)).toBe(false);
    const bare = createConnectorRegistry({ builtins: false, logger: quiet() });
    expect(bare.sourcePlugins()).toEqual([]);
    await Promise.all([registry.dispose(), bare.dispose()]);
  });

  it("refuses a second plugin under a taken name, but accepts the same plugin twice", async () => {
    const journal: Journal = [];
    const plugin = fakeSourcePlugin(journal);
    const registry = createConnectorRegistry({ logger: quiet() }).use(plugin).use(plugin);
    expect(registry.sourcePlugins().filter((known) => known.name === "fake")).toHaveLength(1);
    const conflict = thrown(() => registry.use(fakeSourcePlugin(journal)));
    expect(conflict.code).toBe("SLUICE_PLUGIN_CONFLICT");
    expect(conflict.message).toContain(
      'A source named "fake" is already registered (version 1.2.3)',
    );
    // A sink may share a source's name: they are looked up separately.
    registry.use(fakeSinkPlugin(journal, "fake"));
    expect(registry.sinkPlugin("fake").kind).toBe("sink");
    await registry.dispose();
  });

  it("refuses an object that is not a plugin, saying what is wrong", async () => {
    const registry = new ConnectorRegistry({ logger: quiet() });
    const error = thrown(() => registry.use({ kind: "source", name: "Bad Name" } as never));
    expect(error.code).toBe("SLUICE_PLUGIN_INVALID");
    expect(error.message).toContain("build it with defineSource/defineSink");
    expect(error.message).toContain("create must be a function");
    await registry.dispose();
  });

  it("names the registered connectors when asked for an unknown one", async () => {
    const registry = createConnectorRegistry({ logger: quiet() });
    const error = thrown(() => registry.createSource("kafka", {}));
    expect(error.code).toBe("SLUICE_UNKNOWN_CONNECTOR");
    expect(error.message).toContain(
      'No source connector named "kafka". Registered sources: "file", "socket"',
    );
    await registry.dispose();
  });

  it("validates config before creating, lists every error and never logs a secret", async () => {
    const journal: Journal = [];
    const logs = new LogCapture();
    const registry = createConnectorRegistry({ logger: logs.logger }).use(
      fakeSourcePlugin(journal),
    );
    const error = thrown(() =>
      registry.createSource("fake", { label: "", password: "s3cret-value", retries: -1, extra: 1 }),
    );
    expect(error.code).toBe("SLUICE_INVALID_CONFIG");
    expect(
      (error as SluiceError & { issues: { path: string }[] }).issues.map((i) => i.path),
    ).toEqual(["label", "retries", "extra"]);
    expect(`${error.message}${logs.text()}`).not.toContain("s3cret-value");
    expect(error.message).toContain('Invalid config for source "fake" (3 problems)');
    expect(journal).toEqual([]);
    // With two sources of one plugin, the id says which one is wrong.
    const named = thrown(() => registry.createSource("fake", { label: "" }, { id: "orders" }));
    expect(named.message).toContain('Invalid config for source "fake" (id "orders")');

    const instance = registry.createSource("fake", { label: "a", password: "s3cret-value" });
    const printed = [String(instance), inspect(instance), JSON.stringify(instance), logs.text()];
    for (const text of printed) expect(text).not.toContain("s3cret-value");
    expect(logs.text()).toContain('"msg":"source created"');
    expect(logs.text()).toContain('"password":"[redacted]"');
    expect(instance.config).toMatchObject({ password: "s3cret-value" });
    expect(instance.id).toBe("source:fake#1");
    await registry.dispose();
  });

  it("gives create() its context: id, committed offsets and registered services", async () => {
    const GREETING = serviceToken<string>("test.Greeting");
    const seen: unknown[] = [];
    const plugin = defineSource({
      name: "probe",
      version: "1.0.0",
      config: z.object({}),
      capabilities: { replayable: true },
      create: (_config, context) => {
        seen.push(
          context.id,
          Object.fromEntries(context.committedOffsets),
          context.resolve(GREETING),
        );
        return new FakeSource("probe", []);
      },
    });
    const streams = { stdout: new PassThrough(), stderr: new PassThrough() };
    const registry = createConnectorRegistry({ logger: quiet(), consoleStreams: streams })
      .use(plugin)
      .register(GREETING, "hello");
    registry.createSource("probe", {}, { id: "orders", committedOffsets: { "a.log": "42" } });
    expect(seen).toEqual(["orders", { "a.log": "42" }, "hello"]);
    expect(registry.resolve(CONSOLE_STREAMS)).toBe(streams);
    expect(thrown(() => registry.createSource("probe", {}, { id: "orders" })).code).toBe(
      "SLUICE_INVALID_ARGUMENT",
    );
    await registry.dispose();
  });

  it("reports a create() that throws or does I/O, with the config redacted", async () => {
    const throwing = defineSource({
      name: "throwing",
      version: "1.0.0",
      config: z.object({ password: z.string() }),
      capabilities: { replayable: false },
      create: () => {
        throw new Error("cannot parse the URL");
      },
    });
    const asynchronous = defineSource({
      name: "async",
      version: "1.0.0",
      config: z.object({}),
      capabilities: { replayable: false },
      create: (async () => new FakeSource("x", [])) as never,
    });
    const registry = createConnectorRegistry({ logger: quiet() }).use(throwing, asynchronous);
    const error = thrown(() => registry.createSource("throwing", { password: "pw-999" }));
    expect(error.code).toBe("SLUICE_PLUGIN_INVALID");
    expect(error.message).toContain("cannot parse the URL");
    expect(error.message).not.toContain("pw-999");
    expect(thrown(() => registry.createSource("async", {})).message).toContain(
      "it returned a Promise (do I/O in connect, not create)",
    );
    await registry.dispose();
  });

  it("closes every connector on dispose, sources first, even when one close fails", async () => {
    const journal: Journal = [];
    const registry = createConnectorRegistry({ logger: quiet() }).use(
      fakeSourcePlugin(journal),
      fakeSinkPlugin(journal),
    );
    const sink = registry.createSink("fake-sink", { label: "sink" });
    const a = registry.createSource("fake", { label: "a" });
    const b = registry.createSource("fake", { label: "b", failClose: true });
    const c = registry.createSource("fake", { label: "c" });

    const error = await registry.dispose().then(
      () => undefined,
      (reason: unknown) => reason as SluiceError,
    );
    expect(error?.code).toBe("SLUICE_CONNECTOR_CLOSE_FAILED");
    expect(error?.message).toContain("1 of 4 connectors failed to close (the others were closed)");
    expect(error?.message).toContain("source:fake#2: b refused to close");
    expect(error?.cause).toBeInstanceOf(AggregateError);
    expect(journal.slice(0, 3).sort()).toEqual(["close a", "close b", "close c"]);
    expect(journal[3]).toBe("close sink");
    expect([a, c].map((instance) => (instance.connector as FakeSource).closed)).toEqual([
      true,
      true,
    ]);
    expect((sink.connector as FakeSink).closed).toBe(true);
    expect((b.connector as FakeSource).closed).toBe(false);

    // Disposing again does not close again; the registry refuses new work.
    await registry.dispose().catch(() => undefined);
    expect(journal).toHaveLength(4);
    expect(registry.disposed).toBe(true);
    expect(thrown(() => registry.createSource("fake", { label: "d" })).code).toBe(
      "SLUICE_REGISTRY_DISPOSED",
    );
  });

  it("reports a close that never finishes once closeTimeoutMs has passed", async () => {
    const hanging = defineSource({
      name: "hanging",
      version: "1.0.0",
      config: z.object({}),
      capabilities: { replayable: false },
      create: () =>
        Object.assign(new FakeSource("h", []), { close: () => new Promise<void>(() => undefined) }),
    });
    const registry = createConnectorRegistry({ logger: quiet(), closeTimeoutMs: 20 }).use(hanging);
    registry.createSource("hanging", {});
    await expect(registry.dispose()).rejects.toThrow("close() did not finish within 20 ms");
  });
});

describe("two registries in one process", () => {
  it("share no plugins, ids or connectors", async () => {
    const journalA: Journal = [];
    const journalB: Journal = [];
    const a = createConnectorRegistry({ logger: quiet() }).use(fakeSourcePlugin(journalA));
    const b = createConnectorRegistry({ logger: quiet() });
    expect(thrown(() => b.createSource("fake", { label: "x" })).code).toBe(
      "SLUICE_UNKNOWN_CONNECTOR",
    );
    b.use(fakeSourcePlugin(journalB));
    expect(a.createSource("fake", { label: "a1" }).id).toBe("source:fake#1");
    expect(b.createSource("fake", { label: "b1" }).id).toBe("source:fake#1");
    await a.dispose();
    expect(journalA).toEqual(["close a1"]);
    expect(journalB).toEqual([]);
    expect(b.createSource("fake", { label: "b2" }).id).toBe("source:fake#2");
    await b.dispose();
    expect(journalB.sort()).toEqual(["close b1", "close b2"]);
  });

  it("keep reading with one context's file source after the other context stopped", async () => {
    const root = await mkdtemp(join(tmpdir(), "sluice-two-registries-"));
    try {
      const [dirA, dirB] = [join(root, "a"), join(root, "b")];
      await Promise.all([mkdir(dirA), mkdir(dirB)]);
      const a = createConnectorRegistry({ logger: quiet() });
      const b = createConnectorRegistry({ logger: quiet() });
      const sourceA = a.createSource("file", { directory: dirA, pollIntervalMs: 20 }).connector;
      const sourceB = b.createSource("file", { directory: dirB, pollIntervalMs: 20 }).connector;
      await sourceA.connect(AbortSignal.timeout(5_000));
      await sourceB.connect(AbortSignal.timeout(5_000));
      await a.dispose();
      await expect(sourceA.read(AbortSignal.timeout(5_000))).rejects.toMatchObject({
        code: "SLUICE_CONNECTOR_CLOSED",
      });
      await writeFile(join(root, "in.tmp"), "still here\n");
      await rename(join(root, "in.tmp"), join(dirB, "in.txt"));
      const result = await sourceB.read(AbortSignal.timeout(5_000));
      expect(new TextDecoder().decode(result.records[0]?.value)).toBe("still here");
      await b.dispose();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
