import type { SourceRecord } from "sluice";

/** One card payment. */
export interface Transaction {
  readonly id: string;
  readonly card: string;
  readonly amount: number;
  readonly currency: string;
  readonly merchant: string;
  /** When the payment was made, in milliseconds since the epoch. */
  readonly ts: number;
}

/** A record read as a transaction, or why it is not one and where it came from. */
export type ParsedTransaction =
  | { readonly ok: true; readonly transaction: Transaction }
  | { readonly ok: false; readonly problem: string; readonly where: string };

const decoder = new TextDecoder();

/**
 * Reads a record's value as a transaction:
 * `{ "id": "tx-1", "card": "card-0042", "amount": 12.5, "currency": "EUR", "merchant": "Cafe", "ts": 1736928000000 }`
 * (`ts` may also be ISO 8601 text; `currency` and `merchant` may be left out). Anything else is a
 * rejection naming the field and where the record came from.
 *
 * @example
 * const parsed = parseTransaction(record);
 * if (!parsed.ok) console.error(`${parsed.where}: ${parsed.problem}`);
 */
export function parseTransaction(record: SourceRecord): ParsedTransaction {
  const where = `${record.partition} at offset ${record.offset}`;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(record.value));
  } catch {
    return { ok: false, where, problem: "is not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, where, problem: "is not a JSON object" };
  }
  const {
    id,
    card,
    amount,
    currency = "EUR",
    merchant = "",
    ts,
  } = value as Record<string, unknown>;
  const reject = (problem: string): ParsedTransaction => ({ ok: false, where, problem });
  if (typeof id !== "string" || id === "")
    return reject(`id must be a non-empty text, got ${show(id)}`);
  if (typeof card !== "string" || card === "") {
    return reject(`card of ${id} must be a non-empty text, got ${show(card)}`);
  }
  if (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0) {
    return reject(`amount of ${id} must be a number of at least 0, got ${show(amount)}`);
  }
  if (typeof currency !== "string" || typeof merchant !== "string") {
    return reject(`currency and merchant of ${id} must be texts`);
  }
  const time = typeof ts === "string" ? Date.parse(ts) : ts;
  if (typeof time !== "number" || !Number.isFinite(time)) {
    return reject(`ts of ${id} must be epoch milliseconds or ISO 8601, got ${show(ts)}`);
  }
  return { ok: true, transaction: { id, card, amount, currency, merchant, ts: time } };
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
