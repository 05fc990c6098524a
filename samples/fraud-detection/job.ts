// Card fraud detection: transactions from Kafka, keyed by card; mapWithState keeps each card's
// recent activity and applies a velocity rule and an amount rule; the alerts go to a Kafka topic
// and a RabbitMQ exchange (routing key alert.<rule>), and are printed.
import { kafkaSink, kafkaSource } from "@sluice/kafka";
import { rabbitmqSink } from "@sluice/rabbitmq";
import { batchRecords, defineJob, type State } from "sluice";
import { type CardState, checkTransaction, type FraudAlert } from "./src/card-rules.js";
import { type FraudArgs, resolveFraudSettings } from "./src/settings.js";
import { parseTransaction, type Transaction } from "./src/transaction.js";

export type { FraudArgs } from "./src/settings.js";

/**
 * The line printed for an alert.
 *
 * @example
 * alertLine(alert); // "ALERT velocity card-0007 tx-000123 (12.50 EUR at 2025-01-15T09:00:41.000Z): 6 transactions within 60 s"
 */
export function alertLine(alert: FraudAlert): string {
  return `ALERT ${alert.rule} ${alert.card} ${alert.transaction} (${alert.amount.toFixed(2)} ${alert.currency} at ${new Date(alert.ts).toISOString()}): ${alert.reason}`;
}

export default defineJob<FraudArgs>((ctx, rawArgs) => {
  const settings = resolveFraudSettings(rawArgs);
  const parsed = ctx.source(kafkaSource, settings.source).map(parseTransaction);
  parsed.foreachBatch((batch) => {
    for (const result of batchRecords(batch)) {
      if (!result.ok) {
        process.stderr.write(`skipped a transaction (${result.where}): ${result.problem}\n`);
      }
    }
  });

  // biome-ignore lint/complexity/noFlatMapIdentity: a DStream has flatMap, not Array's flat()
  const alerts = parsed
    .flatMap((result) => (result.ok ? [result.transaction] : []))
    .map((transaction) => [transaction.card, transaction])
    .mapWithState({
      fn: (
        _card: string,
        transaction: Transaction | undefined,
        state: State<CardState>,
      ): FraudAlert[] | undefined => {
        if (transaction === undefined || state.isTimingOut()) return undefined; // forgotten
        const checked = checkTransaction(state.getOption(), transaction, settings.rules);
        state.update(checked.state);
        return checked.alerts;
      },
      timeout: settings.stateTimeout,
    })
    .name("card-state")
    .flatMap((cardAlerts) => cardAlerts);

  // Both outputs get the alert as JSON, keyed by card; printing comes after they were written.
  const encoder = new TextEncoder();
  const records = alerts.map((alert) => ({
    key: encoder.encode(alert.card),
    value: encoder.encode(JSON.stringify(alert)),
    timestampMs: alert.ts,
  }));
  if (settings.kafkaAlerts !== null) records.sink(kafkaSink, settings.kafkaAlerts);
  if (settings.rabbitmqAlerts !== null) records.sink(rabbitmqSink, settings.rabbitmqAlerts);
  alerts.foreachBatch((batch) => {
    for (const alert of batchRecords(batch)) process.stdout.write(`${alertLine(alert)}\n`);
  });
});
