import type { Tick } from "./tick.js";

/** A quoted price at a time. */
export interface Quote {
  readonly price: number;
  readonly ts: number;
}

/** How a symbol's price moved over some ticks: the earliest and the latest quote, and how many. */
export interface PriceMove {
  readonly first: Quote;
  readonly last: Quote;
  readonly ticks: number;
}

/**
 * The move of a single tick (it opens and closes at its own price).
 *
 * @example
 * moveOf({ symbol: "ACME", price: 10, ts: 0 }); // { first: { price: 10, ts: 0 }, last: { price: 10, ts: 0 }, ticks: 1 }
 */
export function moveOf(tick: Tick): PriceMove {
  const quote = { price: tick.price, ts: tick.ts };
  return { first: quote, last: quote, ticks: 1 };
}

/**
 * The move over the ticks of both: the earlier first quote, the later last quote (by the ticks'
 * time, so the order ticks arrive in does not matter). Associative and commutative.
 *
 * @example
 * mergeMoves(moveOf(open), moveOf(close)).ticks; // 2
 */
export function mergeMoves(a: PriceMove, b: PriceMove): PriceMove {
  return {
    first: b.first.ts < a.first.ts ? b.first : a.first,
    last: b.last.ts > a.last.ts ? b.last : a.last,
    ticks: a.ticks + b.ticks,
  };
}

/**
 * The change from the first to the last price, in percent.
 *
 * @example
 * changePercent({ first: { price: 100, ts: 0 }, last: { price: 108, ts: 1 }, ticks: 2 }); // 8
 */
export function changePercent(move: PriceMove): number {
  return ((move.last.price - move.first.price) / move.first.price) * 100;
}

/** An alert: a symbol whose price moved by at least the threshold within one window. */
export interface SpikeAlert {
  readonly symbol: string;
  /** The batch time the window ends at. */
  readonly windowEnd: number;
  readonly changePercent: number;
  readonly from: Quote;
  readonly to: Quote;
  readonly ticks: number;
}
