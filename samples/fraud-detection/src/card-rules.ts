import type { Transaction } from "./transaction.js";

/** The rules' thresholds (the job's `rules` settings). */
export interface FraudRules {
  /** Velocity: more than this many transactions of one card within `velocityWindowMs` alert. */
  readonly maxTransactions: number;
  readonly velocityWindowMs: number;
  /** Amount: a transaction above `amountFactor` × the card's average so far alerts... */
  readonly amountFactor: number;
  /** ...once the card has at least this many earlier transactions. */
  readonly minHistory: number;
  /** Amount: a transaction of at least this much alerts whatever the card's history. */
  readonly maxAmount: number;
}

/** What the job remembers of a card (kept by mapWithState, checkpointed with the job). */
export interface CardState {
  /** Times of the card's transactions within the velocity window before the latest one. */
  readonly recent: readonly number[];
  /** How many transactions, and their total amount, since the card was first seen. */
  readonly count: number;
  readonly total: number;
}

/** Which rule a transaction broke. */
export type FraudRule = "velocity" | "amount";

/** An alert about one transaction. */
export interface FraudAlert {
  /** `<transaction id>/<rule>`: the same on a replay, so consumers can drop duplicates. */
  readonly alertId: string;
  readonly rule: FraudRule;
  readonly card: string;
  readonly transaction: string;
  readonly amount: number;
  readonly currency: string;
  readonly ts: number;
  readonly reason: string;
}

/**
 * Applies the rules to a card's next transaction: the card's new state and the alerts it raises
 * (none, one or both rules).
 *
 * @example
 * const { state, alerts } = checkTransaction(undefined, transaction, rules);
 */
export function checkTransaction(
  state: CardState | undefined,
  transaction: Transaction,
  rules: FraudRules,
): { state: CardState; alerts: FraudAlert[] } {
  const { ts, amount } = transaction;
  const recent = [...(state?.recent ?? []).filter((t) => t > ts - rules.velocityWindowMs), ts];
  const count = state?.count ?? 0;
  const total = state?.total ?? 0;
  const alerts: FraudAlert[] = [];
  const alert = (rule: FraudRule, reason: string): FraudAlert => ({
    alertId: `${transaction.id}/${rule}`,
    rule,
    card: transaction.card,
    transaction: transaction.id,
    amount,
    currency: transaction.currency,
    ts,
    reason,
  });
  if (recent.length > rules.maxTransactions) {
    alerts.push(
      alert("velocity", `${recent.length} transactions within ${rules.velocityWindowMs / 1000} s`),
    );
  }
  if (amount >= rules.maxAmount) {
    alerts.push(
      alert("amount", `${amount.toFixed(2)} is at least the limit of ${rules.maxAmount}`),
    );
  } else if (count >= rules.minHistory && amount > rules.amountFactor * (total / count)) {
    const average = total / count;
    alerts.push(
      alert(
        "amount",
        `${amount.toFixed(2)} is ${(amount / average).toFixed(1)} times the card's average of ${average.toFixed(2)}`,
      ),
    );
  }
  return { state: { recent, count: count + 1, total: total + amount }, alerts };
}
