// Drives Kafka sources and sinks directly through the connector API, as Sluice's receiver does.
import pino from "pino";
import type { SourceRecord } from "sluice";
import { ConnectorRegistry } from "sluice/advanced";
import type { ReadResult, Source } from "sluice/connector";
import {
  KafkaSink,
  KafkaSource,
  kafkaSink,
  kafkaSource,
} from "../../../connectors/kafka/src/index.js";

const decoder = new TextDecoder();

/** A registry holding the Kafka plugins, logging only when SLUICE_TEST_LOGS=1. */
export function kafkaRegistry(): ConnectorRegistry {
  const logger = pino({ level: process.env.SLUICE_TEST_LOGS === "1" ? "debug" : "silent" });
  return new ConnectorRegistry({ logger }).use(kafkaSource, kafkaSink);
}

/** Creates a Kafka source through the registry (so its config is validated). */
export function createKafkaSource(
  registry: ConnectorRegistry,
  config: Record<string, unknown>,
  committedOffsets?: Record<string, string>,
): KafkaSource {
  const instance = registry.createSource(
    "kafka",
    config,
    committedOffsets ? { committedOffsets } : {},
  );
  if (!(instance.connector instanceof KafkaSource)) throw new Error("expected a KafkaSource");
  return instance.connector;
}

/** Creates a Kafka sink through the registry. */
export function createKafkaSink(
  registry: ConnectorRegistry,
  config: Record<string, unknown>,
): KafkaSink {
  const instance = registry.createSink("kafka", config);
  if (!(instance.connector instanceof KafkaSink)) throw new Error("expected a KafkaSink");
  return instance.connector;
}

/** What `readAtLeast` collected: the records and the results to settle. */
export interface Collected {
  readonly records: SourceRecord[];
  readonly results: ReadResult[];
}

/** Reads until at least `count` records arrived (without settling them). */
export async function readAtLeast(
  source: Source,
  count: number,
  timeoutMs = 15_000,
): Promise<Collected> {
  const records: SourceRecord[] = [];
  const results: ReadResult[] = [];
  const signal = AbortSignal.timeout(timeoutMs);
  while (records.length < count) {
    if (signal.aborted) {
      throw new Error(`only ${records.length} of ${count} records arrived within ${timeoutMs} ms`);
    }
    const result = await source.read(signal);
    results.push(result);
    records.push(...result.records);
  }
  return { records, results };
}

/** Acknowledges (or, with an error, nacks) every result in order. */
export async function settleAll(results: readonly ReadResult[], error?: unknown): Promise<void> {
  for (const result of results) await (error === undefined ? result.ack() : result.ack(error));
}

/** The records' values as text. */
export function values(records: readonly SourceRecord[]): string[] {
  return records.map((record) => decoder.decode(record.value));
}

/** Text of bytes. */
export function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : decoder.decode(bytes);
}
