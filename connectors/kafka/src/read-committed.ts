import { createRequire } from "node:module";

/** An aborted transaction as a read_committed fetch response lists it (kafkajs's decoding). */
export interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}

/** The record batch fields kafkajs keeps on every fetched message (`batchContext`). */
interface RecordBatchContext {
  readonly firstOffset: string;
  readonly lastOffsetDelta: number;
  readonly producerId: string;
  readonly inTransaction: boolean;
}

/** A fetched message as kafkajs decodes it, before its consumer filters the fetch. */
export interface FetchedMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly isControlRecord?: boolean;
  readonly batchContext?: RecordBatchContext;
}

/** One partition of a decoded fetch response. */
interface FetchedPartition {
  abortedTransactions?: AbortedTransaction[] | null;
  messages?: FetchedMessage[];
}

interface FetchResponse {
  readonly responses?: readonly { readonly partitions?: readonly FetchedPartition[] }[];
}

interface BrokerPrototype {
  fetch(this: unknown, request: unknown): Promise<FetchResponse>;
  [PATCHED]?: true;
}

// The control record key of an abort marker: version 0, type 0 (a commit is type 1).
const ABORT_MARKER = Buffer.from([0, 0, 0, 0]);
// kafkajs's producer id for records written without one (no idempotence, no transaction).
const NO_PRODUCER = "-1";
const PATCHED = Symbol.for("sluice.kafka.readCommittedFetch");

/**
 * The messages of one partition of a read_committed fetch with those of aborted transactions
 * turned into control records (which kafkajs's consumer skips but still counts as consumed, so
 * its position moves past them), as the Java consumer decides it: the aborted transactions in
 * the order of their first offsets, each marking its producer aborted from the first record
 * batch that reaches that offset until the producer's abort marker.
 *
 * kafkajs 2.2.4 decides it wrongly in two cases (its `filterAbortedMessages`): it takes the
 * aborted transactions in the order the broker lists them, which is the order their abort
 * markers were written, not of their first offsets, and it marks at most one of them per
 * message. A transaction that began before another and was aborted after it (several
 * processes writing one partition, one of them killed and aborted by the broker's timeout) is
 * then handed out as committed, and a producer left marked aborted loses its next committed
 * records.
 *
 * @example
 * const kept = withoutAborted(partition.messages, partition.abortedTransactions);
 */
export function withoutAborted(
  messages: readonly FetchedMessage[],
  aborted: readonly AbortedTransaction[],
): FetchedMessage[] {
  const queue = [...aborted].sort((a, b) => compareOffsets(a.firstOffset, b.firstOffset));
  const abortedProducers = new Set<string>();
  let next = 0;
  return messages.map((message) => {
    const batch = message.batchContext;
    if (batch === undefined || batch.producerId === NO_PRODUCER) return message;
    const batchLast = BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta);
    for (; next < queue.length; next++) {
      const transaction = queue[next] as AbortedTransaction;
      if (BigInt(transaction.firstOffset) > batchLast) break;
      abortedProducers.add(transaction.producerId);
    }
    if (message.isControlRecord === true) {
      if (message.key !== null && ABORT_MARKER.equals(message.key)) {
        abortedProducers.delete(batch.producerId);
      }
      return message;
    }
    if (batch.inTransaction && abortedProducers.has(batch.producerId)) {
      return { ...message, isControlRecord: true };
    }
    return message;
  });
}

/**
 * Makes every kafkajs consumer of this process drop the records of aborted transactions itself
 * (`withoutAborted`) before kafkajs's own filter sees the fetch, which is then given no aborted
 * transactions to filter. Idempotent; wraps kafkajs's broker fetch, so it holds for consumers
 * created before too.
 *
 * @example
 * readAbortedTransactionsCorrectly();
 * const consumer = kafka.consumer({ groupId, readUncommitted: false });
 */
export function readAbortedTransactionsCorrectly(): void {
  const require = createRequire(import.meta.url);
  // kafkajs has no `exports` map: its broker module is the one its consumers use.
  const { prototype } = require("kafkajs/src/broker/index.js") as { prototype: BrokerPrototype };
  if (prototype[PATCHED] === true) return;
  const fetch = prototype.fetch;
  prototype.fetch = async function (this: unknown, request: unknown): Promise<FetchResponse> {
    const response = await fetch.call(this, request);
    for (const topic of response.responses ?? []) {
      for (const partition of topic.partitions ?? []) {
        const aborted = partition.abortedTransactions;
        if (aborted === undefined || aborted === null || aborted.length === 0) continue;
        partition.messages = withoutAborted(partition.messages ?? [], aborted);
        partition.abortedTransactions = [];
      }
    }
    return response;
  };
  prototype[PATCHED] = true;
}

function compareOffsets(a: string, b: string): number {
  const difference = BigInt(a) - BigInt(b);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}
