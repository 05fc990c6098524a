import { describe, expect, it } from "vitest";
import type { BackoffPolicy } from "../../connector/backoff.js";
import type { SinkPlugin } from "../../connector/plugin.js";
import type { SinkRecord } from "../../connector/records.js";
import type { Sink, WriteBatchContext } from "../../connector/sink.js";
import type { SinkInstance } from "../../plugins/connector-instance.js";
import { ConnectorRegistry, type ConnectorRegistryOptions } from "../../plugins/registry.js";
import { SinkSession } from "../../plugins/sink-session.js";
import {
  type ConformanceCheck,
  type ConformancePlan,
  expectInvalidConfigRejected,
  type InvalidConfigExample,
  makeValues,
  type NotChecked,
  planTitle,
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
  | "writers"
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
  /**
   * Drops every connection between the sink and the external system, server side. Resolves with
   * how many connections it dropped, when it can tell; the kit fails when it returns 0 or nothing
   * and the sink reported no lost connection either (a drop that dropped nothing).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: fixtures that cannot count resolve with nothing
  dropConnections?(sink: Sink): Promise<number | undefined | void>;
  /**
   * How many lost connections the sink itself has noticed so far (its metrics, e.g.
   * `connectionLosses`), for connectors that reconnect without failing a write. When given, the
   * kit counts a drop only if the sink noticed it.
   */
  lostConnections?(sink: Sink): number;
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
 * The sink kit's cases as plain async functions, with the guarantees it does not check for this
 * sink and why; `describeSinkConformance` registers them with vitest.
 *
 * @example
 * const plan = sinkConformanceCases(factory, { invalidConfig });
 * await plan.checks.find((check) => check.case === "replay")?.run();
 */
export function sinkConformanceCases(
  factory: (
    testCase: SinkConformanceCase,
  ) => SinkConformanceFixture | Promise<SinkConformanceFixture>,
  options: SinkConformanceOptions,
): ConformancePlan<SinkConformanceCase> {
  const n = options.batchSize ?? 5;
  const batches = options.batchCount ?? 3;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const testTimeout = timeoutMs * (batches + 3);
  const checks: ConformanceCheck<SinkConformanceCase>[] = [];
  const notChecked: NotChecked<SinkConformanceCase>[] = [];
  const add = (
    testCase: SinkConformanceCase,
    name: string,
    body: (c: SinkCase) => Promise<void>,
  ) => {
    checks.push({ case: testCase, name, timeoutMs: testTimeout, run: run(testCase, body) });
  };

  const run = (testCase: SinkConformanceCase, body: (c: SinkCase) => Promise<void>) => async () => {
    const fixture = await factory(testCase);
    const logs = new LogCapture();
    const registry = new ConnectorRegistry({
      ...fixture.registryOptions,
      logger: logs.logger,
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

  add("open-close", "connects and closes, and close is idempotent", async ({ sink }) => {
    await connect(sink);
    await sink.close();
    await sink.close();
  });

  add("batch", `writes a batch of ${n} records`, async ({ sink, fixture }) => {
    await connect(sink);
    const values = makeValues("batch", 0, n);
    await write(sink, values, batchContext(0));
    expect(await readBack(fixture)).toEqual(texts(values));
  });

  add(
    "many-batches",
    `writes ${batches} batches, read back in batch order`,
    async ({ sink, fixture }) => {
      await connect(sink);
      const all: string[] = [];
      for (let batch = 0; batch < batches; batch++) {
        const values = makeValues("many", batch, n);
        all.push(...texts(values));
        await write(sink, values, batchContext(batch));
      }
      expect(await readBack(fixture)).toEqual(all);
    },
  );

  add("empty-batch", "accepts an empty batch", async ({ sink, fixture }) => {
    await connect(sink);
    const values = makeValues("empty", 0, n);
    await write(sink, values, batchContext(0));
    await write(sink, [], batchContext(1));
    expect(await readBack(fixture)).toEqual(texts(values));
  });

  add(
    "replay",
    "overwrites a replayed batch instead of duplicating it (when it declares itself idempotent)",
    async ({ sink, fixture }) => {
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
    },
  );

  add(
    "writers",
    "keeps two copies of a job writing one batch and partition apart (cluster mode's writer)",
    async ({ sink, fixture }) => {
      await connect(sink);
      const context = batchContext(0);
      const first = makeValues("writers", 0, n);
      const second = makeValues("writers", 1, n);
      // Two keyed partitions of a cluster job write the same batch time and partition.
      for (const [index, values] of [first, second].entries()) {
        await write(sink, values, {
          ...context,
          idempotencyKey: `conformance.keyed-${index}/${context.batchTime}/0/${context.partition}`,
          writer: `keyed-${index}`,
        });
      }
      expect((await readBack(fixture)).sort()).toEqual([...texts(first), ...texts(second)].sort());
    },
  );

  const reconnectReason = options.notApplicable?.reconnect;
  if (reconnectReason === undefined) {
    add(
      "reconnect",
      "recovers after the server drops its connections",
      async ({ sink, fixture }) => {
        const drop = fixture.dropConnections;
        expect(
          drop,
          "the fixture must provide dropConnections, or options.notApplicable.reconnect must say why not",
        ).toBeTypeOf("function");
        await connect(sink);
        const before = makeValues("reconnect", 0, n);
        await write(sink, before, batchContext(0));
        const lost = fixture.lostConnections?.bind(fixture, sink);
        const lostBefore = lost?.() ?? 0;
        const dropped = await drop?.call(fixture, sink);
        const after = makeValues("reconnect", 1, n);
        // Sluice's own retry loop: reconnect with backoff on NotConnectedError, write again.
        // The sink it drives counts connects: one after the drop means the sink noticed it.
        let connects = 0;
        const countingSink: Sink = {
          connect: (signal) => {
            connects++;
            return sink.connect(signal);
          },
          writeBatch: (records, context) => sink.writeBatch(records, context),
          close: () => sink.close(),
        };
        const session = new SinkSession(countingSink, { backoff: KIT_BACKOFF, maxAttempts: 20 });
        session.markConnected();
        await within(
          session.write(asRecords(after), batchContext(1), AbortSignal.timeout(timeoutMs)),
          timeoutMs,
          "writing after the drop",
        );
        expect(
          await readBack(fixture),
          "the batches before and after the drop, each once: a write that resolved must have landed",
        ).toEqual([...texts(before), ...texts(after)]);
        // The evidence of a real drop: the sink reported it (NotConnectedError, or its own count
        // of lost connections); without that count, the connections the fixture closed.
        const counted = (lost?.() ?? 0) - lostBefore;
        const closed = typeof dropped === "number" ? dropped : 0;
        expect(
          connects > 0 || counted > 0 || (lost === undefined && closed > 0),
          `dropConnections must drop a connection the sink notices: it reported ${String(dropped)} closed, the sink reconnected ${connects} times${lost === undefined ? "" : ` and counted ${counted} lost connections`}`,
        ).toBe(true);
      },
    );
  } else {
    notChecked.push({ case: "reconnect", reason: reconnectReason });
  }

  add(
    "close-while-writing",
    "finishes or fails a write in progress when closed, and refuses writes afterwards",
    async ({ sink, fixture }) => {
      await connect(sink);
      const values = makeValues("close", 0, n);
      const writing = settle(sink.writeBatch(asRecords(values), batchContext(0)));
      await within(sink.close(), timeoutMs, "close() while a write is in progress");
      const outcome = await within(writing, timeoutMs, "the write settling after close()");
      if (outcome.ok) expect(await readBack(fixture)).toEqual(texts(values));
      await expect(sink.writeBatch(asRecords(values), batchContext(1))).rejects.toBeInstanceOf(
        Error,
      );
    },
  );

  add(
    "invalid-config",
    "rejects an invalid config, listing every invalid field and no secret",
    async () => undefined,
  );

  return { checks, notChecked };
}

/**
 * Registers the conformance suite for a sink connector with vitest: open/close, a batch of N,
 * many batches in order, an empty batch, replay overwrites (for idempotent sinks), two writers
 * of one batch and partition both kept (cluster mode), reconnect
 * after the server drops connections (which must really drop one), close while writing, and
 * invalid config. Cases that cannot apply are not registered; the describe block's title lists
 * them with the reason.
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
  const plan = sinkConformanceCases(factory, options);
  describe(planTitle(`${name} (sink conformance)`, plan), () => {
    for (const check of plan.checks) it(check.name, check.run, check.timeoutMs);
  });
}
