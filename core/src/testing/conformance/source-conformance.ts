import { describe, expect, it } from "vitest";
import type { BackoffPolicy } from "../../plugins/backoff.js";
import type { SourceInstance } from "../../plugins/connector-instance.js";
import type { SourcePlugin } from "../../plugins/plugin.js";
import type { SourceRecord } from "../../plugins/records.js";
import { ConnectorRegistry, type ConnectorRegistryOptions } from "../../plugins/registry.js";
import type { ReadResult, Source } from "../../plugins/source.js";
import { SourceSession } from "../../plugins/source-session.js";
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

/** The cases of the source kit; the factory is told which one it prepares for. */
export type SourceConformanceCase =
  | "open-close"
  | "batch"
  | "many-batches"
  | "nack-redelivery"
  | "reconnect"
  | "end-of-input"
  | "pause-resume"
  | "max-records"
  | "close-while-reading"
  | "abort-read"
  | "invalid-config";

/**
 * What a source's test provides for one case: the plugin, a config pointing at an external
 * system prepared for the case, and hooks to act on that system.
 */
export interface SourceConformanceFixture {
  readonly plugin: SourcePlugin;
  readonly config: unknown;
  /** Options for the registry the kit creates (its logger is always the kit's). */
  readonly registryOptions?: Omit<ConnectorRegistryOptions, "logger" | "builtins">;
  /** Secret values in `config` that must never show in logs or when the connector is printed. */
  readonly secretValues?: readonly string[];
  /** Puts these values into the external system, in this order, for the source to read. */
  produce(values: readonly Uint8Array[], source: Source): Promise<void>;
  /** Drops every connection between the source and the external system, server side. */
  dropConnections?(source: Source): Promise<void>;
  /** Tells the external system the input is complete; the source must then end its input. */
  endInput?(source: Source): Promise<void>;
  /** Stops what the fixture started. */
  cleanup?(): Promise<void>;
}

/** How the source kit runs. */
export interface SourceConformanceOptions {
  readonly invalidConfig: InvalidConfigExample;
  /** Records per batch (N); default 5. */
  readonly batchSize?: number;
  /** Batches in the "many batches" case; default 3. */
  readonly batchCount?: number;
  /** How long one wait for records may take; default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Cases that do not apply to this source, each with the reason; they are not generated. */
  readonly notApplicable?: {
    readonly reconnect?: string;
    readonly endOfInput?: string;
    /** Why the source does not honour `read`'s `maxRecords` hint (the contract allows it). */
    readonly maxRecords?: string;
  };
}

/** What a case body works with. */
interface SourceCase {
  readonly fixture: SourceConformanceFixture;
  readonly instance: SourceInstance;
  readonly source: Source;
  readonly session: SourceSession;
  readonly logs: LogCapture;
}

// Reconnect quickly: the kit's servers are on loopback.
const KIT_BACKOFF: BackoffPolicy = {
  initialDelayMs: 20,
  maxDelayMs: 500,
  multiplier: 2,
  jitter: 0,
};

/**
 * Registers the conformance suite for a source connector with vitest: open/close, a batch of
 * N, many batches in order, nack → redelivery, reconnect after the server drops connections,
 * end of input, pause/resume, flow control's `maxRecords` hint, close while reading, abort, and
 * invalid config.
 *
 * @example
 * describeSourceConformance("socket source", async () => {
 *   const server = await startLineServer();
 *   return {
 *     plugin: socketSource,
 *     config: { host: "127.0.0.1", port: server.port },
 *     produce: (values) => server.send(values),
 *     dropConnections: () => server.dropClients(),
 *     cleanup: () => server.close(),
 *   };
 * }, { invalidConfig: { config: { host: "", port: 0 }, paths: ["host", "port"] } });
 */
export function describeSourceConformance(
  name: string,
  factory: (
    testCase: SourceConformanceCase,
  ) => SourceConformanceFixture | Promise<SourceConformanceFixture>,
  options: SourceConformanceOptions,
): void {
  const n = options.batchSize ?? 5;
  const batches = options.batchCount ?? 3;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const testTimeout = timeoutMs * (batches + 3);

  const run =
    (testCase: SourceConformanceCase, body: (c: SourceCase) => Promise<void>) => async () => {
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
            () => registry.createSource(fixture.plugin.name, options.invalidConfig.config),
            options.invalidConfig,
            logs,
          );
          return;
        }
        const instance = registry.createSource(fixture.plugin.name, fixture.config);
        const source = instance.connector;
        const session = new SourceSession(source, { backoff: KIT_BACKOFF, logger: logs.logger });
        await body({ fixture, instance, source, session, logs });
        const shown = `${logs.text()}\n${String(instance)}\n${JSON.stringify(instance)}`;
        for (const secret of fixture.secretValues ?? []) {
          expect(
            shown.includes(secret),
            `the secret "${secret}" must not be logged or printed`,
          ).toBe(false);
        }
      });
    };

  const collect = async (
    c: SourceCase,
    expected: readonly Uint8Array[],
    what: string,
    maxRecords?: number,
  ): Promise<{ records: SourceRecord[]; results: ReadResult[] }> => {
    const wanted = new Set(texts(expected));
    const seen = new Set<string>();
    const records: SourceRecord[] = [];
    const results: ReadResult[] = [];
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      while ([...wanted].some((value) => !seen.has(value))) {
        if (controller.signal.aborted) {
          const missing = [...wanted].filter((value) => !seen.has(value));
          throw new Error(
            `${what}: after ${timeoutMs} ms, ${missing.length} of ${wanted.size} records never arrived (first missing: ${missing[0]}); received ${records.length}`,
          );
        }
        let result: ReadResult | undefined;
        try {
          result = await c.session.next(
            controller.signal,
            maxRecords === undefined ? undefined : { maxRecords },
          );
        } catch (error) {
          if (controller.signal.aborted) continue;
          throw error;
        }
        if (result === undefined) throw new Error(`${what}: the source ended its input too early`);
        results.push(result);
        records.push(...result.records);
        for (const value of texts(result.records.map((record) => record.value))) seen.add(value);
      }
      return { records, results };
    } finally {
      clearTimeout(timer);
    }
  };

  const ackAll = async (results: readonly ReadResult[], error?: unknown): Promise<void> => {
    for (const result of results) await result.ack(...(error === undefined ? [] : [error]));
  };

  describe(`${name} (source conformance)`, () => {
    it(
      "connects and closes, and close is idempotent",
      run("open-close", async ({ source }) => {
        await source.connect(AbortSignal.timeout(timeoutMs));
        await source.close();
        await source.close();
      }),
      testTimeout,
    );

    it(
      `reads a batch of ${n} records as bytes with partition and offset`,
      run("batch", async (c) => {
        await c.session.connect(AbortSignal.timeout(timeoutMs));
        const values = makeValues("batch", 0, n);
        await c.fixture.produce(values, c.source);
        const { records, results } = await collect(c, values, "a batch");
        expect(texts(records.map((record) => record.value))).toEqual(texts(values));
        for (const record of records) {
          expect(record.value).toBeInstanceOf(Uint8Array);
          expect(typeof record.partition).toBe("string");
          expect(typeof record.offset).toBe("string");
          expect(Number.isFinite(record.timestampMs)).toBe(true);
          expect(typeof record.headers).toBe("object");
        }
        await ackAll(results);
      }),
      testTimeout,
    );

    it(
      `reads ${batches} batches in the order they were produced`,
      run("many-batches", async (c) => {
        await c.session.connect(AbortSignal.timeout(timeoutMs));
        const all: string[] = [];
        const received: string[] = [];
        for (let batch = 0; batch < batches; batch++) {
          const values = makeValues("many", batch, n);
          all.push(...texts(values));
          await c.fixture.produce(values, c.source);
          const { records, results } = await collect(c, values, `batch ${batch}`);
          received.push(...texts(records.map((record) => record.value)));
          await ackAll(results);
        }
        expect(received).toEqual(all);
      }),
      testTimeout,
    );

    it(
      "delivers nacked records again",
      run("nack-redelivery", async (c) => {
        await c.session.connect(AbortSignal.timeout(timeoutMs));
        const values = makeValues("nack", 0, n);
        await c.fixture.produce(values, c.source);
        const first = await collect(c, values, "the first delivery");
        await ackAll(first.results, new Error("nack from the conformance kit"));
        const again = await collect(c, values, "the redelivery after a nack");
        expect(texts(again.records.map((record) => record.value))).toEqual(texts(values));
        await ackAll(again.results);
      }),
      testTimeout,
    );

    if (options.notApplicable?.reconnect === undefined) {
      it(
        "recovers after the server drops its connections",
        run("reconnect", async (c) => {
          const drop = c.fixture.dropConnections;
          expect(
            drop,
            "the fixture must provide dropConnections, or options.notApplicable.reconnect must say why not",
          ).toBeTypeOf("function");
          await c.session.connect(AbortSignal.timeout(timeoutMs));
          const before = makeValues("reconnect", 0, n);
          await c.fixture.produce(before, c.source);
          await ackAll((await collect(c, before, "records before the drop")).results);
          await drop?.call(c.fixture, c.source);
          const after = makeValues("reconnect", 1, n);
          await c.fixture.produce(after, c.source);
          const { records, results } = await collect(c, after, "records after the drop");
          const received = texts(records.map((record) => record.value));
          for (const value of texts(after)) expect(received).toContain(value);
          await ackAll(results);
        }),
        testTimeout,
      );
    }

    if (options.notApplicable?.endOfInput === undefined) {
      it(
        "delivers every record, then ends its input",
        run("end-of-input", async (c) => {
          const end = c.fixture.endInput;
          expect(
            end,
            "the fixture must provide endInput, or options.notApplicable.endOfInput must say why not",
          ).toBeTypeOf("function");
          const signal = AbortSignal.timeout(timeoutMs);
          await c.session.connect(signal);
          const values = makeValues("end", 0, n);
          await c.fixture.produce(values, c.source);
          await end?.call(c.fixture, c.source);
          const received: SourceRecord[] = [];
          for (
            let result = await c.session.next(signal);
            result;
            result = await c.session.next(signal)
          ) {
            received.push(...result.records);
            await result.ack();
          }
          expect(texts(received.map((record) => record.value))).toEqual(texts(values));
          await expect(c.source.read(signal)).rejects.toMatchObject({
            code: "SLUICE_END_OF_INPUT",
          });
        }),
        testTimeout,
      );
    }

    it(
      "settles a pending read on pause, and reads what arrived once resumed",
      run("pause-resume", async (c) => {
        await c.session.connect(AbortSignal.timeout(timeoutMs));
        const pending = c.source.read(AbortSignal.timeout(timeoutMs * 2));
        c.source.pause();
        const paused = await within(pending, timeoutMs, "the read pending at pause() settling");
        expect(paused.records).toEqual([]);
        await paused.ack();
        const values = makeValues("pause", 0, n);
        await c.fixture.produce(values, c.source);
        c.source.resume();
        const { records, results } = await collect(c, values, "records produced while paused");
        expect(texts(records.map((record) => record.value))).toEqual(texts(values));
        await ackAll(results);
      }),
      testTimeout,
    );

    if (options.notApplicable?.maxRecords === undefined) {
      it(
        "returns at most maxRecords per read and keeps the rest for later reads, in order",
        run("max-records", async (c) => {
          await c.session.connect(AbortSignal.timeout(timeoutMs));
          const values = makeValues("max", 0, 3 * n);
          await c.fixture.produce(values, c.source);
          const maxRecords = 2;
          const { records, results } = await collect(c, values, "reads of 2", maxRecords);
          const sizes = results.map((result) => result.records.length);
          expect(
            sizes.every((size) => size <= maxRecords),
            `every read returns at most maxRecords (${maxRecords}); sizes were ${sizes.join(", ")}`,
          ).toBe(true);
          expect(texts(records.map((record) => record.value))).toEqual(texts(values));
          await ackAll(results);
        }),
        testTimeout,
      );
    }

    it(
      "settles a pending read when closed, and refuses reads afterwards",
      run("close-while-reading", async (c) => {
        await c.session.connect(AbortSignal.timeout(timeoutMs));
        const pending = settle(c.source.read(AbortSignal.timeout(timeoutMs * 2)));
        await within(c.source.close(), timeoutMs, "close() while a read is pending");
        const outcome = await within(pending, timeoutMs, "the pending read settling after close()");
        if (outcome.ok) expect(outcome.value.records).toEqual([]);
        await expect(c.source.read(AbortSignal.timeout(timeoutMs))).rejects.toBeInstanceOf(Error);
      }),
      testTimeout,
    );

    it(
      "settles a pending read when its signal aborts",
      run("abort-read", async (c) => {
        await c.session.connect(AbortSignal.timeout(timeoutMs));
        const controller = new AbortController();
        const pending = settle(c.source.read(controller.signal));
        controller.abort();
        const outcome = await within(
          pending,
          timeoutMs,
          "the read settling after its signal aborted",
        );
        if (outcome.ok) expect(outcome.value.records).toEqual([]);
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
