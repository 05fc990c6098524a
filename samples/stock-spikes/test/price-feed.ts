// A deterministic price feed for the stock-spikes tests, and the ground truth about it.
import { expect } from "vitest";
import { SeededRandom } from "../../../test/samples/seeded-random.js";

/** A tick as the test sends it. */
export interface FeedTick {
  readonly symbol: string;
  readonly price: number;
  readonly ts: number;
}

/** An alert as the job writes it (JSON). */
export interface WrittenAlert {
  readonly symbol: string;
  readonly windowEnd: number;
  readonly changePercent: number;
  readonly from: { readonly price: number; readonly ts: number };
  readonly to: { readonly price: number; readonly ts: number };
  readonly ticks: number;
}

/** The feed: ticks of every symbol in time order, and when each spiking symbol jumped. */
export interface PriceFeed {
  readonly ticks: readonly FeedTick[];
  readonly jumps: ReadonlyMap<string, number>;
}

const START = Date.UTC(2025, 0, 15, 14, 30, 0);

/**
 * 80 ticks per symbol, 100 ms apart. ACME jumps +12 % at its 40th tick and GLOBEX −10 % at its
 * 55th; otherwise every price stays within 0.5 % of its level, so no window of any length can move
 * 5 % without a jump in it, and every window holding a jump moves more than 8 %.
 */
export function priceFeed(seed: number): PriceFeed {
  const random = new SeededRandom(seed);
  const symbols = [
    { symbol: "ACME", level: 100, jumpAt: 40, jump: 1.12 },
    { symbol: "GLOBEX", level: 250, jumpAt: 55, jump: 0.9 },
    { symbol: "INITECH", level: 42, jumpAt: -1, jump: 1 },
    { symbol: "UMBRELLA", level: 75, jumpAt: -1, jump: 1 },
    { symbol: "HOOLI", level: 310, jumpAt: -1, jump: 1 },
  ];
  const ticks: FeedTick[] = [];
  const jumps = new Map<string, number>();
  for (let i = 0; i < 80; i++) {
    symbols.forEach(({ symbol, level, jumpAt, jump }, index) => {
      const ts = START + i * 100 + index;
      const base = jumpAt >= 0 && i >= jumpAt ? level * jump : level;
      if (i === jumpAt) jumps.set(symbol, ts);
      const price = Math.round(base * (1 + (random.next() - 0.5) * 0.01) * 100) / 100;
      ticks.push({ symbol, price, ts });
    });
  }
  return { ticks, jumps };
}

/**
 * Checks alerts against the feed: exactly the spiking symbols alert; each alert's quotes are
 * ticks of its symbol, straddle the jump, and move by the percentage it states, at least the
 * threshold.
 */
export function expectAlertsMatchFeed(
  alerts: readonly WrittenAlert[],
  feed: PriceFeed,
  threshold: number,
): void {
  expect(new Set(alerts.map((alert) => alert.symbol))).toEqual(new Set(feed.jumps.keys()));
  for (const alert of alerts) {
    const where = `${alert.symbol} in the window ending ${alert.windowEnd}`;
    const ticks = feed.ticks.filter((tick) => tick.symbol === alert.symbol);
    const quoted = (quote: { price: number; ts: number }): boolean =>
      ticks.some((tick) => tick.ts === quote.ts && tick.price === quote.price);
    expect(quoted(alert.from), `${where}: from is a tick`).toBe(true);
    expect(quoted(alert.to), `${where}: to is a tick`).toBe(true);
    const jump = feed.jumps.get(alert.symbol) ?? Number.NaN;
    expect(alert.from.ts, where).toBeLessThan(jump);
    expect(alert.to.ts, where).toBeGreaterThanOrEqual(jump);
    const change = ((alert.to.price - alert.from.price) / alert.from.price) * 100;
    expect(alert.changePercent, where).toBeCloseTo(change, 9);
    expect(Math.abs(alert.changePercent), where).toBeGreaterThanOrEqual(threshold);
    const between = ticks.filter((tick) => tick.ts >= alert.from.ts && tick.ts <= alert.to.ts);
    // Ticks arrive in time order, so the window holds every tick between its first and last.
    expect(alert.ticks, where).toBe(between.length);
  }
}
