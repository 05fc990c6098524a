import { describe, expect, it } from "vitest";
import type { BackoffPolicy } from "../../connector/backoff.js";
import type { SourcePlugin } from "../../connector/plugin.js";
import type { SourceRecord } from "../../connector/records.js";
import { type ReadResult, type Source, sourceDelivery } from "../../connector/source.js";
import type { SourceInstance } from "../../plugins/connector-instance.js";
import { ConnectorRegistry, type ConnectorRegistryOptions } from "../../plugins/registry.js";
import { SourceSession } from "../../plugins/source-session.js";
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
  waitFor,
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
  | "reconnect-unacked"
  | "restart"
  | "seek"
  | "acknowledged-restart"
  | "ack-after-output"
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
  /**
   * Puts these values into the external system, in this order, for the source to read. In the
   * restart and seek cases `source` is the instance currently open (a second one after the first
   * was closed).
   */
  produce(values: readonly Uint8Array[], source: Source): Promise<void>;
  /**
   * Drops every connection between the source and the external system, server side. Resolves
   * with how many connections it dropped, when it can tell; the kit fails when it returns 0 or
   * nothing and the source reported no lost connection either (a drop that dropped nothing).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: fixtures that cannot count resolve with nothing
  dropConnections?(source: Source): Promise<number | undefined | void>;
  /**
   * How many lost connections the source itself has noticed so far (its metrics, e.g.
   * `connectionLosses`), for connectors that reconnect without failing a read. When given, the
   * kit counts a drop only if the source noticed it.
   */
  lostConnections?(source: Source): number;
  /**
   * How many records the external system still holds as not acknowledged (it would deliver them
   * again to a new consumer): Kafka's end offsets minus the group's committed offsets, a
   * webhook's records in requests not yet answered 200. Without it the kit cannot check that
   * acknowledgements come only from `ack` (declare `notApplicable.ackAfterOutput` with the
   * reason), and checks "acknowledged exactly once" after a reconnect by restarting the source.
   */
  pending?(source: Source): Promise<number>;
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
    /** Why no connection can be dropped (also leaves out "reconnect-unacked"). */
    readonly reconnect?: string;
    readonly endOfInput?: string;
    /** Why the source does not honour `read`'s `maxRecords` hint (the contract allows it). */
    readonly maxRecords?: string;
    /**
     * Why a second instance cannot receive what the first left unacknowledged (a non-replayable
     * source whose external system keeps nothing: Sluice's write-ahead log covers it).
     */
    readonly restart?: string;
    /** Why the source does not seek: it is not replayable. */
    readonly seek?: string;
    /**
     * Why the fixture has no `pending` hook (the external system does not tell what it holds
     * unacknowledged, e.g. MQTT's in-flight messages or RabbitMQ's unacked count).
     */
    readonly ackAfterOutput?: string;
  };
}

/** What a case body works with. */
interface SourceCase {
  readonly fixture: SourceConformanceFixture;
  readonly instance: SourceInstance;
  readonly source: Source;
  readonly session: SourceSession;
  readonly logs: LogCapture;
  /** A new instance of the same plugin and config, in the same registry (a restart). */
  reopen(): SourceCase;
}

// Reconnect quickly: the kit's servers are on loopback.
const KIT_BACKOFF: BackoffPolicy = {
  initialDelayMs: 20,
  maxDelayMs: 500,
  multiplier: 2,
  jitter: 0,
};

const valuesOf = (records: readonly SourceRecord[]): string[] =>
  texts(records.map((record) => record.value));

/** How often each value occurs in `values`. */
function counts(values: readonly string[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const value of values) result.set(value, (result.get(value) ?? 0) + 1);
  return result;
}

/** The offset of the last record of each partition, as a checkpoint would hold it. */
function lastOffsets(records: readonly SourceRecord[]): Map<string, string> {
  const offsets = new Map<string, string>();
  for (const record of records) offsets.set(record.partition, record.offset);
  return offsets;
}

/** Fails naming the values that `received` holds more or less often than once. */
function expectEachOnce(received: readonly string[], expected: readonly string[], what: string) {
  const seen = counts(received);
  const missing = expected.filter((value) => !seen.has(value));
  const repeated = expected.filter((value) => (seen.get(value) ?? 0) > 1);
  expect(missing, `${what}: records lost`).toEqual([]);
  expect(repeated, `${what}: records delivered more than once`).toEqual([]);
}

/**
 * The source kit's cases as plain async functions, with the guarantees it cannot check for this
 * fixture and why; `describeSourceConformance` registers them with vitest.
 *
 * @example
 * const plan = sourceConformanceCases(factory, { invalidConfig, notApplicable: { seek: "not replayable" } });
 * const seek = plan.checks.find((check) => check.case === "seek");
 * await seek?.run();
 */
export function sourceConformanceCases(
  factory: (
    testCase: SourceConformanceCase,
  ) => SourceConformanceFixture | Promise<SourceConformanceFixture>,
  options: SourceConformanceOptions,
): ConformancePlan<SourceConformanceCase> {
  const n = options.batchSize ?? 5;
  const batches = options.batchCount ?? 3;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const testTimeout = timeoutMs * (batches + 3);
  const checks: ConformanceCheck<SourceConformanceCase>[] = [];
  const notChecked: NotChecked<SourceConformanceCase>[] = [];
  const add = (
    testCase: SourceConformanceCase,
    name: string,
    body: (c: SourceCase) => Promise<void>,
  ): void => {
    checks.push({ case: testCase, name, timeoutMs: testTimeout, run: run(testCase, body) });
  };

  const run =
    (testCase: SourceConformanceCase, body: (c: SourceCase) => Promise<void>) => async () => {
      const fixture = await factory(testCase);
      const logs = new LogCapture();
      const registry = new ConnectorRegistry({
        ...fixture.registryOptions,
        logger: logs.logger,
      }).use(fixture.plugin);
      const instances: SourceInstance[] = [];
      await runCase(registry, fixture.cleanup?.bind(fixture), async () => {
        if (testCase === "invalid-config") {
          expectInvalidConfigRejected(
            () => registry.createSource(fixture.plugin.name, options.invalidConfig.config),
            options.invalidConfig,
            logs,
          );
          return;
        }
        const open = (): SourceCase => {
          const instance = registry.createSource(fixture.plugin.name, fixture.config);
          instances.push(instance);
          const source = instance.connector;
          const session = new SourceSession(source, { backoff: KIT_BACKOFF, logger: logs.logger });
          return { fixture, instance, source, session, logs, reopen: open };
        };
        await body(open());
        const shown = [
          logs.text(),
          ...instances.map((instance) => `${String(instance)}\n${JSON.stringify(instance)}`),
        ].join("\n");
        for (const secret of fixture.secretValues ?? []) {
          expect(
            shown.includes(secret),
            `the secret "${secret}" must not be logged or printed`,
          ).toBe(false);
        }
      });
    };

  /**
   * Reads until every value of `expected` arrived (and `until`, when given, holds too); fails
   * naming what is missing after the timeout. With `until`, each read is aborted after a short
   * while, so that a condition on the external system is checked again even when no record comes.
   */
  const collect = async (
    c: SourceCase,
    expected: readonly Uint8Array[],
    what: string,
    maxRecords?: number,
    until?: (records: readonly SourceRecord[]) => boolean | Promise<boolean>,
    noticed?: () => boolean,
  ): Promise<{ records: SourceRecord[]; results: ReadResult[]; afterNotice: SourceRecord[] }> => {
    const afterNotice: SourceRecord[] = [];
    const wanted = new Set(texts(expected));
    const seen = new Set<string>();
    const records: SourceRecord[] = [];
    const results: ReadResult[] = [];
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const done = async () =>
      [...wanted].every((value) => seen.has(value)) &&
      (until === undefined || (await until(records)));
    try {
      while (!(await done())) {
        if (controller.signal.aborted) {
          const missing = [...wanted].filter((value) => !seen.has(value));
          throw new Error(
            `${what}: after ${timeoutMs} ms, ${missing.length} of ${wanted.size} records never arrived (first missing: ${missing[0] ?? "none; a further condition did not hold"}); received ${records.length}`,
          );
        }
        let result: ReadResult | undefined;
        const signal =
          until === undefined
            ? controller.signal
            : AbortSignal.any([controller.signal, AbortSignal.timeout(250)]);
        try {
          result = await c.session.next(
            signal,
            maxRecords === undefined ? undefined : { maxRecords },
          );
        } catch (error) {
          if (signal.aborted) continue;
          throw error;
        }
        if (result === undefined) throw new Error(`${what}: the source ended its input too early`);
        results.push(result);
        records.push(...result.records);
        if (noticed?.()) afterNotice.push(...result.records);
        for (const value of valuesOf(result.records)) seen.add(value);
      }
      return { records, results, afterNotice };
    } finally {
      clearTimeout(timer);
    }
  };

  /** Reads until at least one record came, asking for at most `maxRecords` per read. */
  const readSome = async (
    c: SourceCase,
    maxRecords: number,
    what: string,
  ): Promise<{ records: SourceRecord[]; results: ReadResult[] }> => {
    const records: SourceRecord[] = [];
    const results: ReadResult[] = [];
    const signal = AbortSignal.timeout(timeoutMs);
    while (records.length === 0) {
      let result: ReadResult | undefined;
      try {
        result = await c.session.next(signal, { maxRecords });
      } catch (error) {
        if (signal.aborted) throw new Error(`${what}: no record arrived within ${timeoutMs} ms`);
        throw error;
      }
      if (result === undefined) throw new Error(`${what}: the source ended its input too early`);
      results.push(result);
      records.push(...result.records);
    }
    return { records, results };
  };

  const ackAll = async (results: readonly ReadResult[], error?: unknown): Promise<void> => {
    for (const result of results) await result.ack(...(error === undefined ? [] : [error]));
  };
  const connect = (c: SourceCase) => c.session.connect(AbortSignal.timeout(timeoutMs));
  const close = (c: SourceCase) => within(c.source.close(), timeoutMs, "close()");
  /** Opens a second instance as a restart does: replayable sources seek to `offsets`. */
  const restart = async (
    c: SourceCase,
    offsets: ReadonlyMap<string, string>,
    firstRunStartedAtMs: number,
  ): Promise<SourceCase> => {
    const next = c.reopen();
    if (c.fixture.plugin.capabilities.replayable) {
      const seek = next.source.seek;
      expect(seek, "a replayable source must implement seek").toBeTypeOf("function");
      await seek?.call(next.source, offsets, { firstRunStartedAtMs });
    }
    await connect(next);
    return next;
  };
  const dropAndCheck = async (c: SourceCase, drop: SourceConformanceFixture["dropConnections"]) => {
    const lost = c.fixture.lostConnections?.bind(c.fixture, c.source);
    const reconnectsBefore = c.session.reconnects;
    const lostBefore = lost?.() ?? 0;
    const dropped = await drop?.call(c.fixture, c.source);
    // The evidence of a real drop: the source reported it (NotConnectedError, or its own
    // count of lost connections); without that count, the connections the fixture closed.
    return () => {
      const reported = c.session.reconnects - reconnectsBefore;
      const counted = (lost?.() ?? 0) - lostBefore;
      const closed = typeof dropped === "number" ? dropped : 0;
      expect(
        reported > 0 || counted > 0 || (lost === undefined && closed > 0),
        `dropConnections must drop a connection the source notices: it reported ${String(dropped)} closed, the source failed ${reported} reads with NotConnectedError${lost === undefined ? "" : ` and counted ${counted} lost connections`}`,
      ).toBe(true);
    };
  };

  add("open-close", "connects and closes, and close is idempotent", async ({ source }) => {
    await source.connect(AbortSignal.timeout(timeoutMs));
    await source.close();
    await source.close();
  });

  add("batch", `reads a batch of ${n} records as bytes with partition and offset`, async (c) => {
    await connect(c);
    const values = makeValues("batch", 0, n);
    await c.fixture.produce(values, c.source);
    const { records, results } = await collect(c, values, "a batch");
    expect(valuesOf(records)).toEqual(texts(values));
    for (const record of records) {
      expect(record.value).toBeInstanceOf(Uint8Array);
      expect(typeof record.partition).toBe("string");
      expect(typeof record.offset).toBe("string");
      expect(Number.isFinite(record.timestampMs)).toBe(true);
      expect(typeof record.headers).toBe("object");
    }
    await ackAll(results);
  });

  add("many-batches", `reads ${batches} batches in the order they were produced`, async (c) => {
    await connect(c);
    const all: string[] = [];
    const received: string[] = [];
    for (let batch = 0; batch < batches; batch++) {
      const values = makeValues("many", batch, n);
      all.push(...texts(values));
      await c.fixture.produce(values, c.source);
      const { records, results } = await collect(c, values, `batch ${batch}`);
      received.push(...valuesOf(records));
      await ackAll(results);
    }
    expect(received).toEqual(all);
  });

  add("nack-redelivery", "delivers nacked records again", async (c) => {
    await connect(c);
    const values = makeValues("nack", 0, n);
    await c.fixture.produce(values, c.source);
    const first = await collect(c, values, "the first delivery");
    await ackAll(first.results, new Error("nack from the conformance kit"));
    const again = await collect(c, values, "the redelivery after a nack");
    expect(valuesOf(again.records)).toEqual(texts(values));
    await ackAll(again.results);
  });

  const restartReason = options.notApplicable?.restart;
  if (restartReason === undefined) {
    add(
      "restart",
      "after a restart, delivers again what was not acknowledged and nothing that was",
      async (c) => {
        const startedAt = Date.now();
        await connect(c);
        const acked = makeValues("restart", 0, n);
        await c.fixture.produce(acked, c.source);
        const first = await collect(c, acked, "the records acknowledged before the restart");
        await ackAll(first.results);
        const unacked = makeValues("restart", 1, n);
        await c.fixture.produce(unacked, c.source);
        // Read and left unacknowledged: the job crashed before their batch was output.
        await collect(c, unacked, "the records left unacknowledged before the restart");
        await close(c);
        // Replayable: seek to the checkpoint, the offsets of the acknowledged records.
        const next = await restart(c, lastOffsets(first.records), startedAt);
        const markers = makeValues("restart", 2, n);
        await next.fixture.produce(markers, next.source);
        const again = await collect(
          next,
          [...unacked, ...markers],
          "the unacknowledged records after the restart",
        );
        const received = valuesOf(again.records);
        const ackedValues = new Set(texts(acked));
        expect(
          received.filter((value) => ackedValues.has(value)),
          "records acknowledged before the restart came again",
        ).toEqual([]);
        expectEachOnce(received, [...texts(unacked), ...texts(markers)], "after the restart");
        await ackAll(again.results);
      },
    );
  } else {
    notChecked.push({ case: "restart", reason: restartReason });
  }

  const seekReason = options.notApplicable?.seek;
  if (seekReason === undefined) {
    add(
      "seek",
      "after seek to a checkpointed offset, delivers the records after it: no repeat, no gap",
      async (c) => {
        expect(
          c.fixture.plugin.capabilities.replayable,
          "only replayable sources seek: declare options.notApplicable.seek for this one",
        ).toBe(true);
        const startedAt = Date.now();
        await connect(c);
        const values = makeValues("seek", 0, 2 * n);
        await c.fixture.produce(values, c.source);
        const first = await collect(c, values, "the records before the seek");
        await ackAll(first.results);
        await close(c);
        const byPartition = new Map<string, SourceRecord[]>();
        for (const record of first.records) {
          const list = byPartition.get(record.partition) ?? [];
          list.push(record);
          byPartition.set(record.partition, list);
        }
        // Per partition, the checkpoint holds a record in the middle.
        const offsets = new Map<string, string>();
        const used = new Set<string>();
        const expected = new Map<string, string[]>();
        for (const [partition, records] of byPartition) {
          const cut = Math.floor((records.length - 1) / 2);
          const checkpointed = records[cut];
          if (checkpointed === undefined) continue;
          offsets.set(partition, checkpointed.offset);
          for (const record of records.slice(0, cut + 1)) used.add(valuesOf([record])[0] ?? "");
          expected.set(partition, valuesOf(records.slice(cut + 1)));
        }
        const next = await restart(c, offsets, startedAt);
        const markers = makeValues("seek", 1, n);
        await next.fixture.produce(markers, next.source);
        const after = [...expected.values()].flat();
        const again = await collect(
          next,
          [...values.filter((value) => after.includes(texts([value])[0] ?? "")), ...markers],
          "the records after the checkpointed offsets",
        );
        const received = valuesOf(again.records);
        expect(
          received.filter((value) => used.has(value)),
          "records at or before the checkpointed offset came again",
        ).toEqual([]);
        for (const [partition, list] of expected) {
          const inPartition = again.records
            .filter((record) => record.partition === partition)
            .map((record) => valuesOf([record])[0] ?? "")
            .filter((value) => !texts(markers).includes(value));
          expect(inPartition, `partition ${partition} after the seek`).toEqual(list);
        }
        await ackAll(again.results);
      },
    );
  } else {
    notChecked.push({ case: "seek", reason: seekReason });
  }

  add(
    "acknowledged-restart",
    "after a crash between a checkpoint and its acknowledgements, seek acknowledges what the checkpoint covers and the rest comes once (when it declares acknowledgements after output)",
    async (c) => {
      // Only a source whose acknowledgements matter promises this; the kit checks the promise.
      if (sourceDelivery(c.fixture.plugin.capabilities) !== "acknowledged-offsets") return;
      const pending = c.fixture.pending;
      if (pending === undefined) {
        throw new Error(
          'a source declaring acknowledgements: "after-output" must give the fixture a pending hook: the kit checks the acknowledgement state of the external system',
        );
      }
      const startedAt = Date.now();
      await connect(c);
      const covered = makeValues("acknowledged", 0, n);
      await c.fixture.produce(covered, c.source);
      // Output and checkpointed, but the process died before their acknowledgements went out.
      const first = await collect(c, covered, "the records the checkpoint covers");
      const unacked = makeValues("acknowledged", 1, n);
      await c.fixture.produce(unacked, c.source);
      // Read, their batch never output.
      await collect(c, unacked, "the records read after the checkpoint");
      expect(
        await pending.call(c.fixture, c.source),
        "records read but not acknowledged must stay unacknowledged in the external system",
      ).toBe(2 * n);
      await close(c);
      const next = await restart(c, lastOffsets(first.records), startedAt);
      const count = () => pending.call(next.fixture, next.source);
      let left = -1;
      await waitFor(
        async () => {
          left = await count();
          if (left < n) {
            throw new Error(
              `after seek, only ${left} records are unacknowledged in the external system: the ${n} read after the checkpointed offsets were acknowledged before their batch was output`,
            );
          }
          return left === n;
        },
        timeoutMs,
        () =>
          `seek must acknowledge the records at or before the checkpointed offsets that the external system still holds unacknowledged: ${left} are unacknowledged, ${n} expected (those read after the checkpoint)`,
      );
      const markers = makeValues("acknowledged", 2, n);
      await next.fixture.produce(markers, next.source);
      const again = await collect(
        next,
        [...unacked, ...markers],
        "the records after the checkpointed offsets",
      );
      const received = valuesOf(again.records);
      const coveredValues = new Set(texts(covered));
      expect(
        received.filter((value) => coveredValues.has(value)),
        "records the checkpoint covers came again after the restart",
      ).toEqual([]);
      expectEachOnce(received, [...texts(unacked), ...texts(markers)], "after the restart");
      expect(
        await count(),
        "records delivered after the restart must stay unacknowledged until ack()",
      ).toBe(2 * n);
      await ackAll(again.results);
      await waitFor(
        async () => {
          left = await count();
          return left === 0;
        },
        timeoutMs,
        () => `after every ack(), ${left} records are still unacknowledged`,
      );
    },
  );

  const ackReason = options.notApplicable?.ackAfterOutput;
  if (ackReason === undefined) {
    add(
      "ack-after-output",
      "acknowledges nothing before ack() is called, and everything once it is",
      async (c) => {
        const pending = c.fixture.pending;
        if (pending === undefined) {
          throw new Error(
            "the fixture must provide pending, or options.notApplicable.ackAfterOutput must say why not",
          );
        }
        const count = () => pending.call(c.fixture, c.source);
        await connect(c);
        const values = makeValues("ack", 0, 2 * n);
        await c.fixture.produce(values, c.source);
        const { records, results } = await collect(c, values, "the records to acknowledge");
        expect(records.length).toBe(values.length);
        expect(
          await count(),
          "records read but not acknowledged must stay unacknowledged in the external system",
        ).toBe(values.length);
        let remaining = values.length;
        for (const result of results) {
          await result.ack();
          remaining -= result.records.length;
          const left = await count();
          expect(
            left,
            "records of results not yet acknowledged must stay unacknowledged in the external system",
          ).toBeGreaterThanOrEqual(remaining);
        }
        let last = -1;
        await waitFor(
          async () => {
            last = await count();
            return last === 0;
          },
          timeoutMs,
          () =>
            `after every ack(), ${last} records are still unacknowledged in the external system`,
        );
      },
    );
  } else {
    notChecked.push({ case: "ack-after-output", reason: ackReason });
  }

  const reconnectReason = options.notApplicable?.reconnect;
  if (reconnectReason === undefined) {
    add("reconnect", "recovers after the server drops its connections", async (c) => {
      const drop = c.fixture.dropConnections;
      expect(
        drop,
        "the fixture must provide dropConnections, or options.notApplicable.reconnect must say why not",
      ).toBeTypeOf("function");
      await connect(c);
      const before = makeValues("reconnect", 0, n);
      await c.fixture.produce(before, c.source);
      await ackAll((await collect(c, before, "records before the drop")).results);
      const checkDropped = await dropAndCheck(c, drop);
      const after = makeValues("reconnect", 1, n);
      await c.fixture.produce(after, c.source);
      const { records, results } = await collect(c, after, "records after the drop");
      const received = valuesOf(records);
      for (const value of texts(after)) expect(received).toContain(value);
      await ackAll(results);
      checkDropped();
    });

    add(
      "reconnect-unacked",
      "after a drop with results unacknowledged, loses nothing and duplicates nothing acknowledged",
      async (c) => {
        const drop = c.fixture.dropConnections;
        expect(
          drop,
          "the fixture must provide dropConnections, or options.notApplicable.reconnect must say why not",
        ).toBeTypeOf("function");
        const pending =
          c.fixture.pending === undefined
            ? undefined
            : () =>
                (c.fixture.pending as NonNullable<SourceConformanceFixture["pending"]>).call(
                  c.fixture,
                  c.source,
                );
        const startedAt = Date.now();
        await connect(c);
        const before = makeValues("unacked", 0, 2 * n);
        await c.fixture.produce(before, c.source);
        // Some of them read, and still unacknowledged when the connection drops and comes back;
        // the others (with the maxRecords hint) still fetched-but-not-returned in the source or
        // waiting in the external system: they must come exactly once after the drop.
        const stale = await readSome(c, 2, "records before the drop");
        const beforeValues = new Set(valuesOf(stale.records));
        const unread = before.filter((value) => !beforeValues.has(texts([value])[0] ?? ""));
        const lost = c.fixture.lostConnections?.bind(c.fixture, c.source);
        const lostBefore = lost?.() ?? 0;
        const reconnectsBefore = c.session.reconnects;
        const checkDropped = await dropAndCheck(c, drop);
        // A record returned after the drop but before the source noticed it may come again from
        // the external system (a race no source can avoid); once the source noticed (a read
        // failed with NotConnectedError, or its lostConnections count grew: the kit waits for
        // that), each record not read before must come at most once more.
        if (lost !== undefined) {
          await waitFor(
            async () => lost() > lostBefore,
            timeoutMs,
            () =>
              "dropConnections must drop a connection the source notices: its lostConnections count never grew",
          );
        }
        const noticed = () => lost !== undefined || c.session.reconnects > reconnectsBefore;
        const during = makeValues("unacked", 1, n);
        await c.fixture.produce(during, c.source);
        const reconnected = await collect(
          c,
          [...unread, ...during],
          "records after the drop",
          undefined,
          undefined,
          noticed,
        );
        // Acknowledging a result read before the drop is harmless: it still takes effect (the
        // records stay acknowledged, they must not come again) or it does nothing (the external
        // system delivers them again, once).
        const heldBefore = pending === undefined ? undefined : await pending();
        for (const result of stale.results) {
          const outcome = await settle(Promise.resolve().then(() => result.ack()));
          expect(
            outcome.ok ? undefined : String(outcome.error),
            "acknowledging a result read before the drop must not fail",
          ).toBeUndefined();
        }
        const heldAfter = pending === undefined ? undefined : await pending();
        await ackAll(reconnected.results);
        const after = makeValues("unacked", 2, n);
        await c.fixture.produce(after, c.source);
        const redeliveredSoFar = valuesOf(reconnected.records).filter((value) =>
          beforeValues.has(value),
        ).length;
        // With `pending`: read on until the external system owes nothing beyond what was read
        // (whatever it still owed from before the drop came again).
        const last = await collect(
          c,
          after,
          "records after the reconnect",
          undefined,
          pending === undefined
            ? undefined
            : async (records) => (await pending()) <= records.length,
          noticed,
        );
        await ackAll(last.results);
        const received = [...valuesOf(reconnected.records), ...valuesOf(last.records)];
        expectEachOnce(
          received.filter((value) => !beforeValues.has(value)),
          [...texts(during), ...texts(after)],
          "records produced after the drop",
        );
        const times = counts(received);
        const timesAfterNotice = counts(
          valuesOf([...reconnected.afterNotice, ...last.afterNotice]),
        );
        expect(
          texts(unread).filter((value) => (times.get(value) ?? 0) > 2),
          "records produced before the drop but not yet read came more than twice",
        ).toEqual([]);
        expect(
          texts(unread).filter((value) => (timesAfterNotice.get(value) ?? 0) > 1),
          "records produced before the drop but not yet read came more than once after the source noticed the drop",
        ).toEqual([]);
        const redelivered = received.filter((value) => beforeValues.has(value));
        const twice = [...counts(redelivered)].filter(([, times]) => times > 1);
        expect(twice, "records read before the drop came again more than once").toEqual([]);
        if (heldBefore !== undefined && heldAfter !== undefined) {
          const ackedByStale = heldBefore - heldAfter;
          expect(
            redelivered.length,
            `records came again although the acknowledgement of their first delivery took effect (${ackedByStale} of ${stale.records.length} were acknowledged by it; ${redelivered.length} came again, ${redeliveredSoFar} of them right after the reconnect)`,
          ).toBeLessThanOrEqual(stale.records.length - ackedByStale);
        }
        checkDropped();
        if (pending !== undefined) {
          let left = -1;
          await waitFor(
            async () => {
              left = await pending();
              return left === 0;
            },
            timeoutMs,
            () => `after every ack(), ${left} records are still unacknowledged`,
          );
          return;
        }
        if (restartReason !== undefined) return;
        // Without `pending`: a new instance must receive none of them again.
        await close(c);
        const next = await restart(
          c,
          lastOffsets([...stale.records, ...reconnected.records, ...last.records]),
          startedAt,
        );
        const markers = makeValues("unacked", 3, n);
        await next.fixture.produce(markers, next.source);
        const probe = await collect(next, markers, "the markers after a restart");
        const produced = new Set([...texts(before), ...texts(during), ...texts(after)]);
        expect(
          valuesOf(probe.records).filter((value) => produced.has(value)),
          "acknowledged records came again after a restart",
        ).toEqual([]);
        await ackAll(probe.results);
      },
    );
  } else {
    notChecked.push({ case: "reconnect", reason: reconnectReason });
    notChecked.push({ case: "reconnect-unacked", reason: reconnectReason });
  }

  const endReason = options.notApplicable?.endOfInput;
  if (endReason === undefined) {
    add("end-of-input", "delivers every record, then ends its input", async (c) => {
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
      expect(valuesOf(received)).toEqual(texts(values));
      await expect(c.source.read(signal)).rejects.toMatchObject({ code: "SLUICE_END_OF_INPUT" });
    });
  } else {
    notChecked.push({ case: "end-of-input", reason: endReason });
  }

  add(
    "pause-resume",
    "settles a pending read on pause, and reads what arrived once resumed",
    async (c) => {
      await connect(c);
      const pendingRead = c.source.read(AbortSignal.timeout(timeoutMs * 2));
      c.source.pause();
      const paused = await within(pendingRead, timeoutMs, "the read pending at pause() settling");
      expect(paused.records).toEqual([]);
      await paused.ack();
      const values = makeValues("pause", 0, n);
      await c.fixture.produce(values, c.source);
      c.source.resume();
      const { records, results } = await collect(c, values, "records produced while paused");
      expect(valuesOf(records)).toEqual(texts(values));
      await ackAll(results);
    },
  );

  const maxReason = options.notApplicable?.maxRecords;
  if (maxReason === undefined) {
    add(
      "max-records",
      "returns at most maxRecords per read and keeps the rest for later reads, in order",
      async (c) => {
        await connect(c);
        const values = makeValues("max", 0, 3 * n);
        await c.fixture.produce(values, c.source);
        const maxRecords = 2;
        const { records, results } = await collect(c, values, "reads of 2", maxRecords);
        const sizes = results.map((result) => result.records.length);
        expect(
          sizes.every((size) => size <= maxRecords),
          `every read returns at most maxRecords (${maxRecords}); sizes were ${sizes.join(", ")}`,
        ).toBe(true);
        expect(valuesOf(records)).toEqual(texts(values));
        await ackAll(results);
      },
    );
  } else {
    notChecked.push({ case: "max-records", reason: maxReason });
  }

  add(
    "close-while-reading",
    "settles a pending read when closed, and refuses reads afterwards",
    async (c) => {
      await connect(c);
      const pendingRead = settle(c.source.read(AbortSignal.timeout(timeoutMs * 2)));
      await within(c.source.close(), timeoutMs, "close() while a read is pending");
      const outcome = await within(
        pendingRead,
        timeoutMs,
        "the pending read settling after close()",
      );
      if (outcome.ok) expect(outcome.value.records).toEqual([]);
      await expect(c.source.read(AbortSignal.timeout(timeoutMs))).rejects.toBeInstanceOf(Error);
    },
  );

  add("abort-read", "settles a pending read when its signal aborts", async (c) => {
    await connect(c);
    const controller = new AbortController();
    const pendingRead = settle(c.source.read(controller.signal));
    controller.abort();
    const outcome = await within(
      pendingRead,
      timeoutMs,
      "the read settling after its signal aborted",
    );
    if (outcome.ok) expect(outcome.value.records).toEqual([]);
  });

  add(
    "invalid-config",
    "rejects an invalid config, listing every invalid field and no secret",
    async () => undefined,
  );

  return { checks, notChecked };
}

/**
 * Registers the conformance suite for a source connector with vitest: open/close, a batch of
 * N, many batches in order, nack → redelivery, restart (unacknowledged records come again,
 * acknowledged ones do not), seek (replayable sources), a restart whose checkpoint's
 * acknowledgements were lost (sources with `acknowledgements: "after-output"`), acknowledgement only on `ack` (with the
 * fixture's `pending`), reconnect after the server drops connections (with and without results
 * unacknowledged), end of input, pause/resume, flow control's `maxRecords` hint, close while
 * reading, abort, and invalid config. Cases that cannot apply are not registered; the describe
 * block's title lists them with the reason.
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
 * }, {
 *   invalidConfig: { config: { host: "", port: 0 }, paths: ["host", "port"] },
 *   notApplicable: { restart: "the server keeps no line", seek: "not replayable", ackAfterOutput: "no acks" },
 * });
 */
export function describeSourceConformance(
  name: string,
  factory: (
    testCase: SourceConformanceCase,
  ) => SourceConformanceFixture | Promise<SourceConformanceFixture>,
  options: SourceConformanceOptions,
): void {
  const plan = sourceConformanceCases(factory, options);
  describe(planTitle(`${name} (source conformance)`, plan), () => {
    for (const check of plan.checks) it(check.name, check.run, check.timeoutMs);
  });
}
