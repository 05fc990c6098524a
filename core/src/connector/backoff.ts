import { setTimeout as sleep } from "node:timers/promises";

/**
 * Exponential backoff with jitter, for reconnecting: attempt n waits
 * `min(maxDelayMs, initialDelayMs * multiplier^(n-1))`, spread by ±`jitter`.
 *
 * @example
 * const policy: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 30_000, multiplier: 2, jitter: 0.2 };
 */
export interface BackoffPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  /** 0 for none; 0.2 spreads each delay over ±20% so clients do not reconnect in lockstep. */
  readonly jitter: number;
}

/** 100 ms, doubling, at most 30 s, ±20%. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 0.2,
});

/**
 * How long to wait before attempt `attempt` (1 = the first retry).
 *
 * @example
 * backoffDelay(DEFAULT_BACKOFF, 3, () => 0.5); // 400
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(policy.maxDelayMs, base + spread)));
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export type Delay = (ms: number, signal: AbortSignal) => Promise<void>;

/**
 * The real-time `Delay`.
 *
 * @example
 * await realDelay(100, signal);
 */
export const realDelay: Delay = async (ms, signal) => {
  await sleep(ms, undefined, { signal });
};
