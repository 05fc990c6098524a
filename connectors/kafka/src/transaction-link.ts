import { SluiceError } from "sluice/connector";
import type { FenceRecord } from "./cluster-fence.js";

/** A consumed offset to commit: the next record of the partition to read. */
export interface ConsumedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** What the source of a pair asks of its sink. */
export interface LinkedSink {
  /**
   * Commits the sink's open transaction together with these consumed offsets of `groupId`
   * (`sendOffsets`); with no transaction open, one is begun to carry the offsets alone. A
   * `fence` record is written in the transaction too (cluster mode, cluster-fence.ts).
   */
  commitWithOffsets(
    groupId: string,
    offsets: readonly ConsumedOffset[],
    fence?: FenceRecord,
  ): Promise<void>;
  /** Aborts the sink's open transaction, if any (the batch it holds failed). */
  abortOpen(): Promise<void>;
}

/** What the sink of a pair asks of its source. */
export interface LinkedSource {
  /**
   * The commit that acknowledgements already made have asked for and that has not finished
   * yet; a write of the next batch waits for it.
   */
  readonly pendingCommit: Promise<void> | undefined;
  /**
   * Commits the sink's open transaction now with the offsets acknowledged so far (none when the
   * batch it holds read nothing): for a transaction whose batch is done and whose reads were
   * all acknowledged, or that had none, so no acknowledgement will commit it.
   */
  readonly commitAcknowledged?: () => Promise<void>;
}

interface Pair {
  sink?: LinkedSink;
  source?: LinkedSource;
}

// A transactional id names one producer in the whole Kafka cluster, so one table per process
// is the right scope. Kept on globalThis so two copies of this package still pair up.
const PAIRS_KEY = Symbol.for("sluice.kafka.transactionPairs");

function pairs(): Map<string, Pair> {
  const holder = globalThis as { [PAIRS_KEY]?: Map<string, Pair> };
  holder[PAIRS_KEY] ??= new Map();
  return holder[PAIRS_KEY];
}

/**
 * Registers the sink of a transactional id; returns the function that unregisters it. A second
 * sink under the same id is refused: Kafka would fence one of them anyway.
 *
 * @example
 * const detach = attachSink("orders-eos", sink);
 */
export function attachSink(transactionalId: string, sink: LinkedSink): () => void {
  return attach(transactionalId, "sink", sink);
}

/**
 * Registers the source of a transactional id; returns the function that unregisters it.
 *
 * @example
 * const detach = attachSource("orders-eos", source);
 */
export function attachSource(transactionalId: string, source: LinkedSource): () => void {
  return attach(transactionalId, "source", source);
}

/** The sink paired with `transactionalId`, if one is connected in this process. */
export function linkedSink(transactionalId: string): LinkedSink | undefined {
  return pairs().get(transactionalId)?.sink;
}

/** The source paired with `transactionalId`, if one is connected in this process. */
export function linkedSource(transactionalId: string): LinkedSource | undefined {
  return pairs().get(transactionalId)?.source;
}

function attach<K extends "sink" | "source">(
  transactionalId: string,
  side: K,
  member: NonNullable<Pair[K]>,
): () => void {
  const table = pairs();
  const pair = table.get(transactionalId) ?? {};
  const existing = pair[side];
  if (existing !== undefined && existing !== member) {
    throw new SluiceError(
      "SLUICE_INVALID_CONFIG",
      `Another Kafka ${side} with transactionalId "${transactionalId}" is already connected in this process; give each source/sink pair its own transactionalId.`,
    );
  }
  pair[side] = member;
  table.set(transactionalId, pair);
  return () => {
    const current = table.get(transactionalId);
    if (current?.[side] !== member) return;
    delete current[side];
    if (current.sink === undefined && current.source === undefined) table.delete(transactionalId);
  };
}
