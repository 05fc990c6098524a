// Generated card transactions with known fraud patterns, and the alerts they must raise,
// worked out here from the rules as the README states them (not with the job's code).
import { SeededRandom } from "../../../test/samples/seeded-random.js";

/** A transaction as the test produces it. */
export interface TestTransaction {
  readonly id: string;
  readonly card: string;
  readonly amount: number;
  readonly currency: string;
  readonly merchant: string;
  readonly ts: number;
}

/** The part of an alert the test can know in advance. */
export interface ExpectedAlert {
  readonly alertId: string;
  readonly rule: "velocity" | "amount";
  readonly card: string;
  readonly transaction: string;
  readonly amount: number;
  readonly ts: number;
}

const START = Date.UTC(2025, 0, 15, 9, 0, 0);
const SECOND = 1000;

/**
 * Twenty ordinary cards (a payment of 20 to 60 every few minutes) and six with a pattern:
 * 7 payments 8 s apart (velocity); 5 within 50 s (just inside the rule); 900 after four of
 * about 40 (amount); a first payment of 7000 (the limit); 800 after only two payments (too little
 * history); 6 payments within 60 s, the last of 6000 (both rules). In time order.
 */
export function generateTransactions(seed: number): TestTransaction[] {
  const random = new SeededRandom(seed);
  const transactions: Omit<TestTransaction, "id">[] = [];
  const pay = (card: string, ts: number, amount: number): void => {
    transactions.push({ card, amount, currency: "EUR", merchant: random.pick(MERCHANTS), ts });
  };
  for (let c = 1; c <= 20; c++) {
    const card = `card-${String(c).padStart(4, "0")}`;
    let ts = START + random.int(0, 60) * SECOND;
    for (let n = random.int(6, 10); n > 0; n--) {
      pay(card, ts, random.int(2000, 6000) / 100);
      ts += random.int(180, 400) * SECOND;
    }
  }
  for (let n = 0; n < 7; n++) pay("card-0100", START + 300 * SECOND + n * 8 * SECOND, 15 + n);
  for (let n = 0; n < 5; n++) pay("card-0101", START + 400 * SECOND + n * 12 * SECOND, 25);
  for (const [n, amount] of [38, 41, 40, 43, 900].entries()) {
    pay("card-0102", START + 500 * SECOND + n * 240 * SECOND, amount);
  }
  pay("card-0103", START + 600 * SECOND, 7000);
  for (const [n, amount] of [30, 35, 800].entries()) {
    pay("card-0104", START + 700 * SECOND + n * 300 * SECOND, amount);
  }
  for (const [n, amount] of [20, 22, 19, 21, 23, 6000].entries()) {
    pay("card-0105", START + 800 * SECOND + n * 10 * SECOND, amount);
  }
  return transactions
    .sort((a, b) => a.ts - b.ts || (a.card < b.card ? -1 : 1))
    .map((transaction, index) => ({ id: `tx-${String(index).padStart(5, "0")}`, ...transaction }));
}

const MERCHANTS = ["Corner Cafe", "City Books", "Fuel 24", "Grocer & Sons", "Rail Tickets"];

/** The alerts of the default rules: more than 5 payments within 60 s; an amount of 5000 or
 * more; or more than 5 times the card's average once it has 3 earlier payments. */
export function expectedAlerts(transactions: readonly TestTransaction[]): ExpectedAlert[] {
  const byCard = new Map<string, TestTransaction[]>();
  for (const transaction of transactions) {
    byCard.set(transaction.card, [...(byCard.get(transaction.card) ?? []), transaction]);
  }
  const alerts: ExpectedAlert[] = [];
  for (const history of byCard.values()) {
    history.forEach((transaction, index) => {
      const earlier = history.slice(0, index);
      const alert = (rule: ExpectedAlert["rule"]): ExpectedAlert => ({
        alertId: `${transaction.id}/${rule}`,
        rule,
        card: transaction.card,
        transaction: transaction.id,
        amount: transaction.amount,
        ts: transaction.ts,
      });
      const withinMinute = history
        .slice(0, index + 1)
        .filter((other) => other.ts > transaction.ts - 60 * SECOND);
      if (withinMinute.length > 5) alerts.push(alert("velocity"));
      const average = earlier.reduce((sum, other) => sum + other.amount, 0) / earlier.length;
      if (transaction.amount >= 5000) alerts.push(alert("amount"));
      else if (earlier.length >= 3 && transaction.amount > 5 * average)
        alerts.push(alert("amount"));
    });
  }
  return alerts.sort((a, b) => (a.alertId < b.alertId ? -1 : 1));
}
