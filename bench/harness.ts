import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Runs contenders side by side: every round runs each contender once, in an order that
 * rotates from round to round, so drift in the machine's speed spreads over all of them.
 */

/** One way of doing the work; `run` returns a checksum the others must match. */
export interface Contender {
  readonly name: string;
  /** Runs the work once and returns its checksum; `time` reports its own elapsed time in ns. */
  run(): {
    readonly ns: number;
    readonly checksum: string;
    readonly extra?: Record<string, number>;
  };
}

// A full collection before each timed run, so garbage one contender left (strings, Maps) is not
// collected by V8's background threads while the next contender runs on the other core.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Collects garbage, then idles briefly so V8's background sweeping finishes before timing. */
function collectGarbage(): void {
  gc();
  Atomics.wait(pause, 0, 0, 20);
}

/** Median and spread of one contender's samples. */
export interface Summary {
  readonly name: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: number[];
  readonly checksum: string;
  readonly extra: Record<string, number>;
}

/** Times a synchronous piece of work in ns. */
export function timeNs<T>(work: () => T): { ns: number; value: T } {
  const start = process.hrtime.bigint();
  const value = work();
  return { ns: Number(process.hrtime.bigint() - start), value };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Runs every contender `rounds` times (after one untimed warm-up each unless `warmUp` is
 * false), rotating the order, with a full garbage collection before each run, and returns
 * per-contender medians of `scale(ns)` (for example ns per row).
 */
export function runContenders(
  contenders: readonly Contender[],
  rounds: number,
  scale: (ns: number) => number,
  options: { warmUp?: boolean } = {},
): Summary[] {
  const samples = contenders.map(() => [] as number[]);
  const checksums = contenders.map(() => "");
  const extras = contenders.map(() => [] as Array<Record<string, number>>);
  if (options.warmUp !== false) {
    contenders.forEach((contender, i) => {
      collectGarbage();
      checksums[i] = contender.run().checksum;
    });
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + round) % contenders.length;
      collectGarbage();
      const result = (contenders[i] as Contender).run();
      if (checksums[i] === "") checksums[i] = result.checksum;
      (samples[i] as number[]).push(scale(result.ns));
      if (result.extra !== undefined)
        (extras[i] as Array<Record<string, number>>).push(result.extra);
      if (result.checksum !== checksums[i])
        checksums[i] = `${checksums[i]} (varies: ${result.checksum})`;
    }
  }
  return contenders.map((contender, i) => {
    const own = samples[i] as number[];
    const extra: Record<string, number> = {};
    const extraSamples = extras[i] as Array<Record<string, number>>;
    for (const key of Object.keys(extraSamples[0] ?? {})) {
      extra[key] = median(extraSamples.map((e) => e[key] as number));
    }
    return {
      name: contender.name,
      median: median(own),
      min: Math.min(...own),
      max: Math.max(...own),
      samples: own,
      checksum: checksums[i] as string,
      extra,
    };
  });
}

/** A contender whose work is asynchronous (a streaming job run batch by batch). */
export interface AsyncContender {
  readonly name: string;
  /** Runs the work once and returns its checksum and its own elapsed time in ns. */
  run(): Promise<{ readonly ns: number; readonly checksum: string }>;
}

/**
 * `runContenders` for asynchronous work: one untimed warm-up each, then `rounds` rounds in a
 * rotating order, with a full garbage collection before each run.
 */
export async function runAsyncContenders(
  contenders: readonly AsyncContender[],
  rounds: number,
  scale: (ns: number) => number,
): Promise<Summary[]> {
  const samples = contenders.map(() => [] as number[]);
  const checksums = contenders.map(() => "");
  for (const [i, contender] of contenders.entries()) {
    collectGarbage();
    checksums[i] = (await contender.run()).checksum;
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + round) % contenders.length;
      collectGarbage();
      const result = await (contenders[i] as AsyncContender).run();
      (samples[i] as number[]).push(scale(result.ns));
      if (result.checksum !== checksums[i])
        checksums[i] = `${checksums[i]} (varies: ${result.checksum})`;
    }
  }
  return contenders.map((contender, i) => {
    const own = samples[i] as number[];
    return {
      name: contender.name,
      median: median(own),
      min: Math.min(...own),
      max: Math.max(...own),
      samples: own,
      checksum: checksums[i] as string,
      extra: {},
    };
  });
}

/** True when every contender produced the same checksum. */
export function checksumsAgree(summaries: readonly Summary[]): boolean {
  return summaries.every((s) => s.checksum === summaries[0]?.checksum);
}

/** Formats a number with a sensible number of digits. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** `median (min–max)`. */
export function spread(s: Summary): string {
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}
