import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { ConnectorRegistry } from "../../plugins/registry.js";
import type { LogCapture } from "./log-capture.js";

/** An invalid config for the kit's "invalid config" case, and what its error must name. */
export interface InvalidConfigExample {
  /** A config with at least two invalid fields. */
  readonly config: unknown;
  /** The paths (as `ConfigIssue.path`, e.g. `port` or `tls.ca`) the error must list. */
  readonly paths: readonly string[];
  /** Secret values inside `config` that must appear in no message and no log line. */
  readonly secrets?: readonly string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Unique values for one test case, so leftovers of another run can never match. */
export function makeValues(label: string, batch: number, count: number): Uint8Array[] {
  const run = randomUUID().slice(0, 8);
  return Array.from({ length: count }, (_, index) =>
    encoder.encode(`${label}-${run}-b${batch}-r${index}`),
  );
}

/** The values as text, for readable assertions. */
export function texts(values: readonly Uint8Array[]): string[] {
  return values.map((value) => decoder.decode(value));
}

/** Resolves with `promise`, or rejects naming `what` when it takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** How a promise ended, without throwing. */
export async function settle<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Runs `body`, then always disposes the registry and cleans up, reporting the first failure. */
export async function runCase(
  registry: ConnectorRegistry,
  cleanup: (() => Promise<void>) | undefined,
  body: () => Promise<void>,
): Promise<void> {
  let failure: unknown;
  try {
    await body();
  } catch (error) {
    failure = error;
  }
  try {
    await registry.dispose();
  } catch (error) {
    failure ??= error;
  }
  try {
    await cleanup?.();
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure;
}

/** The "invalid config" case, shared by sources and sinks. */
export function expectInvalidConfigRejected(
  create: () => unknown,
  example: InvalidConfigExample,
  logs: LogCapture,
): void {
  expect(
    example.paths.length,
    "invalidConfig.paths must name at least two fields",
  ).toBeGreaterThanOrEqual(2);
  let thrown: unknown;
  try {
    create();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "creating a connector with an invalid config must throw").toBeInstanceOf(Error);
  const error = thrown as Error & { code?: unknown; issues?: readonly { path: string }[] };
  expect(error.code).toBe("SLUICE_INVALID_CONFIG");
  const reported = (error.issues ?? []).map((issue) => issue.path);
  for (const path of example.paths) {
    expect(reported, `the error must list the field "${path}"`).toContain(path);
    expect(error.message).toContain(path);
  }
  const shown = `${error.message}\n${String(error)}\n${JSON.stringify(error.issues)}\n${logs.text()}`;
  for (const secret of example.secrets ?? []) {
    expect(shown.includes(secret), `the secret "${secret}" must not be printed`).toBe(false);
  }
}

/**
 * One case of a conformance kit as a plain async function: `run` resolves when the connector
 * passes it and rejects, naming what went wrong, when it does not.
 *
 * @example
 * const plan = sourceConformanceCases(factory, options);
 * for (const check of plan.checks) await check.run();
 */
export interface ConformanceCheck<Case extends string> {
  /** Which case this is (what the factory is told). */
  readonly case: Case;
  /** The test name the describe functions give it. */
  readonly name: string;
  /** How long the whole case may take. */
  readonly timeoutMs: number;
  run(): Promise<void>;
}

/**
 * A guarantee a kit does not check for this connector, and why.
 *
 * @example
 * const skipped: NotChecked<"restart"> = { case: "restart", reason: "the server keeps nothing" };
 */
export interface NotChecked<Case extends string> {
  readonly case: Case;
  readonly reason: string;
}

/**
 * What a kit runs for one connector: the checks, and the guarantees left unchecked with reasons.
 *
 * @example
 * const { checks, notChecked } = sourceConformanceCases(factory, options);
 */
export interface ConformancePlan<Case extends string> {
  readonly checks: readonly ConformanceCheck<Case>[];
  readonly notChecked: readonly NotChecked<Case>[];
}

/** The title of a kit's describe block, listing what it does not check and why. */
export function planTitle(title: string, plan: ConformancePlan<string>): string {
  if (plan.notChecked.length === 0) return title;
  const skipped = plan.notChecked.map((entry) => `${entry.case}: ${entry.reason}`).join("; ");
  return `${title} [not checked — ${skipped}]`;
}

/** Resolves once `condition` holds, checking every few milliseconds; rejects after `ms` with `what` and the last state. */
export async function waitFor(
  condition: () => Promise<boolean>,
  ms: number,
  what: () => string,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`${what()} (waited ${ms} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
