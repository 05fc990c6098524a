import { describe, expect, it } from "vitest";
import type { BackoffPolicy } from "../../plugins/backoff.js";
import type { SinkInstance } from "../../plugins/connector-instance.js";
import type { SinkPlugin } from "../../plugins/plugin.js";
import type { SinkRecord } from "../../plugins/records.js";
import { ConnectorRegistry, type ConnectorRegistryOptions } from "../../plugins/registry.js";
import type { Sink, WriteBatchContext } from "../../plugins/sink.js";
import { SinkSession } from "../../plugins/sink-session.js";
import {
  expectInvalidConfigRejected,
  type InvalidConfigExample,
  makeValues,
  runCase,
  settle,
  texts,
  within,
} from "./harness.js";
import { LogCapture } from "./log-capture.js";

/** The cases of the sink kit; the factory is told which one it prepares for. */
export type SinkConformanceCase =
  | "open-close"
  | "batch"
  | "many-batches"
  | "empty-batch"
  | "replay"
  | "reconnect"
  | "close-while-writing"
  | "invalid-config";

/**
 * What a sink's test provides for one case: the plugin, a config pointing at an external
 * system prepared for the case, and hooks to inspect and disturb that system.
 */
export interface SinkConformanceFixture {
  readonly plugin: SinkPlugin;
  readonly config: unknown;
  /** Options for the registry the kit creates (its logger is always the kit's). */
  readonly registryOptions?: Omit<ConnectorRegistryOptions, "logger" | "builtins">;
  /** Secret values in `config` that must never show in logs or when the connector is printed. */
  readonly secretValues?: readonly string[];
  /** Every value the sink has written so far, in batch order (then partition, then record). */
  readBack(): Promise<Uint8Array[]>;
  /** Drops every connection between the sink and the external system, server side. */
  dropConnections?(sink: Sink): Promise<void>;
  /** Stops what the fixture started. */
  cleanup?(): Promise<void>;
}

/** How the sink kit runs. */
export interface SinkConformanceOptions {
  readonly invalidConfig: InvalidConfigExample;
  /** Records per batch (N); default 5. */
  readonly batchSize?: number;
  /** Batches in the "many batches" case; default 3. */
  readonly batchCount?: number;
  /** How long one write or wait may take; default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Cases that do not apply to this sink, each with the reason; they are not generated. */
  readonly notApplicable?: { readonly reconnect?: string };
}

interface SinkCase {
  readonly fixture: SinkConformanceFixture;
  readonly instance: SinkInstance;
  readonly sink: Sink;
}

const KIT_BACKOFF: BackoffPolicy = {
  initialDelayMs: 20,
  maxDelayMs: 500,
  multiplier: 2,
  jitter: 0,
};
const FIRST_BATCH_TIME = 1_700_000_000_000;

/** The write context of the kit's batch number `batch`. */
function batchContext(batch: number, partition = 0): WriteBatchContext {
  const batchTime = FIRST_BATCH_TIME + batch * 1_000;
  return { batchTime, partition, idempotencyKey: `conformance/${batchTime}/0/${partition}` };
}

function asRecords(values: readonly Uint8Array[]): SinkRecord[] {
  return values.map((value) => ({ value }));
}

/**
 * Registers the conformance suite for a sink connector with vitest: open/close, a batch of N,
 * many batches in order, an empty batch, replay overwrites (for idempotent sinks), reconnect
 * after the server drops connections, close while writing, and invalid config.
 *
 * @example
 * describeSinkConformance("file sink", async () => {
 *   const directory = await mkdtemp(join(tmpdir(), "sink-"));
 *   return {
 *     plugin: fileSink,
 *     config: { directory },
 *     readBack: () => readAllLines(directory),
 *     cleanup: () => rm(directory, { recursive: true }),
 *   };
 * }, { invalidConfig: { config: { directory: "", format: "xml" }, paths: ["directory", "format"] }, notApplicable: { reconnect: "no connection" } });
 */
export function describeSinkConformance(
  name: string,
  factory: (
    testCase: SinkConformanceCase,
  ) => SinkConformanceFixture | Promise<SinkConformanceFixture>,
  options: SinkConformanceOptions,
): void {
  const n = options.batchSize ?? 5;
  const batches = options.batchCount ?? 3;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const testTimeout = timeoutMs * (batches + 3);

  const run = (testCase: SinkConformanceCase, body: (c: SinkCase) => Promise<void>) => async () => {
    const fixture = await factory(testCase);
    const logs = new LogCapture();
    const registry = new ConnectorRegistry({
      ...fixture.registryOptions,
      logger: logs.logger,
      builtins: false,
    }).use(fixture.plugin);
    await runCase(registry, fixture.cleanup?.bind(fixture), async () => {
      if (testCase === "invalid-config") {
        expectInvalidConfigRejected(
          () => registry.createSink(fixture.plugin.name, options.invalidConfig.config),
          options.invalidConfig,
          logs,
        );
        return;
      }
      const instance = registry.createSink(fixture.plugin.name, fixture.config);
      await body({ fixture, instance, sink: instance.connector });
      const shown = `${logs.text()}\n${String(instance)}\n${JSON.stringify(instance)}`;
      for (const secret of fixture.secretValues ?? []) {
        expect(shown.includes(secret), `the secret "${secret}" must not be logged or printed`).toBe(
          false,
        );
      }
    });
  };

  const connect = (sink: Sink) =>
    within(sink.connect(AbortSignal.timeout(timeoutMs)), timeoutMs, "connect()");
  const write = (sink: Sink, values: readonly Uint8Array[], context: WriteBatchContext) =>
    within(
      sink.writeBatch(asRecords(values), context),
      timeoutMs,
      `writing batch ${context.batchTime}`,
    );
  const readBack = async (fixture: SinkConformanceFixture) => texts(await fixture.readBack());

  describe(`${name} (sink conformance)`, () => {
    it(
      "connects and closes, and close is idempotent",
      run("open-close", async ({ sink }) => {
        await connect(sink);
        await sink.close();
        await sink.close();
      }),
      testTimeout,
    );

    it(
      `writes a batch of ${n} records`,
      run("batch", async ({ sink, fixture }) => {
        await connect(sink);
        const values = makeValues("batch", 0, n);
        await write(sink, values, batchContext(0));
        expect(await readBack(fixture)).toEqual(texts(values));
      }),
      testTimeout,
    );

    it(
      `writes ${batches} batches, read back in batch order`,
      run("many-batches", async ({ sink, fixture }) => {
        await connect(sink);
        const all: string[] = [];
        for (let batch = 0; batch < batches; batch++) {
          const values = makeValues("many", batch, n);
          all.push(...texts(values));
          await write(sink, values, batchContext(batch));
        }
        expect(await readBack(fixture)).toEqual(all);
      }),
      testTimeout,
    );

    it(
      "accepts an empty batch",
      run("empty-batch", async ({ sink, fixture }) => {
        await connect(sink);
        const values = makeValues("empty", 0, n);
        await write(sink, values, batchContext(0));
        await write(sink, [], batchContext(1));
        expect(await readBack(fixture)).toEqual(texts(values));
      }),
      testTimeout,
    );

    it(
      "overwrites a replayed batch instead of duplicating it (when it declares itself idempotent)",
      run("replay", async ({ sink, fixture }) => {
        await connect(sink);
        const values = makeValues("replay", 0, n);
        await write(sink, values, batchContext(0));
        if (!fixture.plugin.capabilities.idempotent) {
          // A sink that does not promise idempotence may duplicate; the kit checks only the promise.
          expect(await readBack(fixture)).toEqual(texts(values));
          return;
        }
        await write(sink, values, batchContext(0));
        expect(await readBack(fixture)).toEqual(texts(values));
      }),
      testTimeout,
    );

    if (options.notApplicable?.reconnect === undefined) {
      it(
        "recovers after the server drops its connections",
        run("reconnect", async ({ sink, fixture }) => {
          const drop = fixture.dropConnections;
          expect(
            drop,
            "the fixture must provide dropConnections, or options.notApplicable.reconnect must say why not",
          ).toBeTypeOf("function");
          await connect(sink);
          const before = makeValues("reconnect", 0, n);
          await write(sink, before, batchContext(0));
          await drop?.call(fixture, sink);
          const after = makeValues("reconnect", 1, n);
          // Sluice's own retry loop: reconnect with backoff on NotConnectedError, write again.
          const session = new SinkSession(sink, { backoff: KIT_BACKOFF, maxAttempts: 20 });
          session.markConnected();
          await within(
            session.write(asRecords(after), batchContext(1), AbortSignal.timeout(timeoutMs)),
            timeoutMs,
            "writing after the drop",
          );
          expect(await readBack(fixture)).toEqual([...texts(before), ...texts(after)]);
        }),
        testTimeout,
      );
    }

    it(
      "finishes or fails a write in progress when closed, and refuses writes afterwards",
      run("close-while-writing", async ({ sink, fixture }) => {
        await connect(sink);
        const values = makeValues("close", 0, n);
        const writing = settle(sink.writeBatch(asRecords(values), batchContext(0)));
        await within(sink.close(), timeoutMs, "close() while a write is in progress");
        const outcome = await within(writing, timeoutMs, "the write settling after close()");
        if (outcome.ok) expect(await readBack(fixture)).toEqual(texts(values));
        await expect(sink.writeBatch(asRecords(values), batchContext(1))).rejects.toBeInstanceOf(
          Error,
        );
      }),
      testTimeout,
    );

    it(
      "rejects an invalid config, listing every invalid field and no secret",
      run("invalid-config", async () => undefined),
      testTimeout,
    );
  });
}
