// Stock price spike alerts: ticks come from a TCP socket or a Kafka topic; for every symbol the
// job keeps the first and the last price of a sliding window and raises an alert when the price
// moved by the threshold or more, up or down.
import { kafkaSink, kafkaSource } from "@sluice/kafka";
import { batchRecords, type Duration, defineJob } from "sluice";
import {
  changePercent,
  mergeMoves,
  moveOf,
  type PriceMove,
  type SpikeAlert,
} from "./src/price-move.js";
import { resolveSpikeSettings, type SpikeArgs } from "./src/settings.js";
import { parseTick } from "./src/tick.js";

export type { SpikeArgs } from "./src/settings.js";

/**
 * The line printed for an alert.
 *
 * @example
 * alertLine(alert); // "ALERT ACME +12.04% in the window ending 08:00:05.000: 100.00 at 08:00:01.200 → 112.04 at 08:00:03.100 (25 ticks)"
 */
export function alertLine(alert: SpikeAlert): string {
  const time = (ms: number): string => new Date(ms).toISOString().slice(11, 23);
  const sign = alert.changePercent > 0 ? "+" : "";
  return `ALERT ${alert.symbol} ${sign}${alert.changePercent.toFixed(2)}% in the window ending ${time(alert.windowEnd)}: ${alert.from.price.toFixed(2)} at ${time(alert.from.ts)} → ${alert.to.price.toFixed(2)} at ${time(alert.to.ts)} (${alert.ticks} ticks)`;
}

export default defineJob<SpikeArgs>((ctx, rawArgs) => {
  const settings = resolveSpikeSettings(rawArgs);
  const parsed = ctx
    .source(settings.sourceType === "kafka" ? kafkaSource : "socket", settings.source)
    .map(parseTick);
  parsed.foreachBatch((batch) => {
    for (const result of batchRecords(batch)) {
      if (!result.ok) process.stderr.write(`skipped a tick (${result.where}): ${result.problem}\n`);
    }
  });

  const alerts = parsed
    .flatMap((result) => (result.ok ? [result.tick] : []))
    .map((tick) => [tick.symbol, moveOf(tick)])
    .reduceByKeyAndWindow(mergeMoves, {
      window: settings.window as Duration,
      slide: settings.slide as Duration,
    })
    .transform((batch, time) =>
      batchRecords(batch)
        .map(
          ([symbol, move]: [string, PriceMove]): SpikeAlert => ({
            symbol,
            windowEnd: time,
            changePercent: changePercent(move),
            from: move.first,
            to: move.last,
            ticks: move.ticks,
          }),
        )
        .filter((alert) => Math.abs(alert.changePercent) >= settings.threshold)
        .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0)),
    );

  alerts.foreachBatch((batch) => {
    for (const alert of batchRecords(batch)) process.stdout.write(`${alertLine(alert)}\n`);
  });
  if (settings.alerts !== undefined) {
    // Keyed by symbol: on Kafka, a symbol's alerts stay in one partition, in order.
    const encoder = new TextEncoder();
    alerts
      .map((alert) => ({
        key: encoder.encode(alert.symbol),
        value: encoder.encode(JSON.stringify(alert)),
        timestampMs: alert.windowEnd,
      }))
      .sink(settings.alerts.type === "kafka" ? kafkaSink : "file", settings.alerts.config);
  }
});
