import type { SourceRecord } from "sluice";

/** One trade price of one symbol. */
export interface Tick {
  readonly symbol: string;
  readonly price: number;
  /** When the price was quoted, in milliseconds since the epoch. */
  readonly ts: number;
}

/** A record read as a tick, or why it is not one and where it came from. */
export type ParsedTick =
  | { readonly ok: true; readonly tick: Tick }
  | { readonly ok: false; readonly problem: string; readonly where: string };

const decoder = new TextDecoder();
const SYMBOL = /^[A-Z][A-Z0-9.]{0,9}$/;

/**
 * Reads a record as a tick: JSON `{ "symbol": "ACME", "price": 101.5, "ts": 1736928000000 }`, or
 * text `ACME 101.5` / `ACME,101.5` as typed into netcat. Without `ts`, the record's timestamp
 * (when the source received it) is used. Anything else is a rejection naming where it came from.
 *
 * @example
 * parseTick(record); // { ok: true, tick: { symbol: "ACME", price: 101.5, ts: 1736928000000 } }
 */
export function parseTick(record: SourceRecord): ParsedTick {
  const where = `${record.partition} at offset ${record.offset}`;
  const text = decoder.decode(record.value).trim();
  let symbol: unknown;
  let price: unknown;
  let ts: unknown = record.timestampMs;
  let shownPrice: string;
  if (text.startsWith("{")) {
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { ok: false, where, problem: "starts like JSON but is not JSON" };
    }
    ({ symbol, price } = value);
    shownPrice = JSON.stringify(price) ?? "nothing";
    if (value.ts !== undefined) ts = value.ts;
  } else {
    const fields = text.split(/[\s,]+/);
    if (fields.length !== 2) {
      return {
        ok: false,
        where,
        problem: `expected "SYMBOL PRICE" or JSON, got ${JSON.stringify(text)}`,
      };
    }
    symbol = fields[0];
    price = Number(fields[1]);
    shownPrice = JSON.stringify(fields[1]);
  }
  if (typeof symbol !== "string" || !SYMBOL.test(symbol)) {
    return {
      ok: false,
      where,
      problem: `symbol must be 1 to 10 capitals and digits, got ${JSON.stringify(symbol)}`,
    };
  }
  if (typeof price !== "number" || !Number.isFinite(price) || price <= 0) {
    return {
      ok: false,
      where,
      problem: `price of ${symbol} must be a positive number, got ${shownPrice}`,
    };
  }
  if (typeof ts !== "number" || !Number.isFinite(ts)) {
    return {
      ok: false,
      where,
      problem: `ts of ${symbol} must be epoch milliseconds, got ${JSON.stringify(ts)}`,
    };
  }
  return { ok: true, tick: { symbol, price, ts } };
}
