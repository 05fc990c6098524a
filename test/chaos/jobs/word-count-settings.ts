// What the chaos tests and their job agree on (kept apart from the job, which runs on import).
import type { FileStep } from "sluice/testing";

/** Where the words come from. */
export type SourceSettings =
  | { readonly kind: "file"; readonly directory: string }
  | {
      readonly kind: "kafka";
      readonly brokers: readonly string[];
      readonly topic: string;
      readonly groupId: string;
      /** Pairs the source with the Kafka output of the same id (exactly once). */
      readonly transactionalId?: string;
    }
  | { readonly kind: "rabbitmq"; readonly url: string; readonly queue: string }
  | {
      readonly kind: "mqtt";
      readonly url: string;
      readonly clientId: string;
      readonly topic: string;
    };

/** Where one output goes: a file folder, a Cassandra table, or a Kafka topic. */
export type OutputTarget =
  | { readonly kind: "file"; readonly directory: string }
  | {
      readonly kind: "kafka";
      readonly brokers: readonly string[];
      readonly topic: string;
      readonly transactionalId?: string;
    }
  | {
      readonly kind: "cassandra";
      readonly contactPoints: readonly string[];
      readonly keyspace: string;
      readonly table: string;
    };

/**
 * A crash the job brings on itself (SIGKILL) right after the `occurrence`-th step on a path
 * containing `path`, counted from the first step matching `after` when given.
 */
export interface CrashSettings {
  readonly step: FileStep;
  readonly path?: string;
  readonly occurrence?: number;
  readonly after?: { readonly step: FileStep; readonly path?: string };
  /**
   * Counting starts only once a batch with records has started (its checkpoint then covers
   * records: with a source paired with its sink, a crash after it is ahead of the commit).
   */
  readonly onceRecordsFlow?: boolean;
}

/** What the chaos test tells the job (as JSON in CHAOS_JOB). */
export interface ChaosJobSettings {
  readonly checkpoint: string;
  readonly batchIntervalMs: number;
  readonly source: SourceSettings;
  /** Per-batch counts, running totals and sliding windows: each to files and/or Cassandra. */
  readonly outputs: Readonly<Record<"counts" | "totals" | "windows", readonly OutputTarget[]>>;
  /** Kill the job inside a step of its checkpoint writes (default: no self-inflicted crash). */
  readonly crash?: CrashSettings;
}

/** The window of the sliding count, in batch intervals. */
export const WINDOW_BATCHES = 4;
/** How often the window slides, in batch intervals. */
export const SLIDE_BATCHES = 2;
/** The header carrying a record's id (RabbitMQ's message id; an MQTT user property). */
export const RECORD_ID_HEADERS = { rabbitmq: "amqp-message-id", mqtt: "id" } as const;
