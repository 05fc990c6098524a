import { protocolErrorType } from "./kafka-client.js";

const FENCED = new Set([
  "INVALID_PRODUCER_EPOCH",
  "PRODUCER_FENCED",
  "INVALID_PRODUCER_ID_MAPPING",
]);

/**
 * What to do when a transactional producer was fenced, as a sentence to add to a failure, or
 * undefined for other failures. A transactional id names one producer in the whole cluster: a
 * second copy of a job with the same id fences the first at its start, and restarting the
 * first fences the second in turn, so "restart the job" alone sends two copies round in turns.
 *
 * @example
 * const advice = fencedAdvice(error, "orders-eos"); // "Another producer with transactionalId ..."
 */
export function fencedAdvice(error: unknown, transactionalId: string): string | undefined {
  if (!FENCED.has(protocolErrorType(error) ?? "")) return undefined;
  return `Another producer with transactionalId "${transactionalId}" started since this one (another copy of this job, or one started elsewhere with the same id), or the broker aborted the transaction after transactionTimeoutMs. Only one running job may use a transactionalId: stop the other copy, or run the job in several processes with cluster mode (--cluster), which gives each its own; if nothing else uses the id, raise transactionTimeoutMs above the time between acknowledgements.`;
}
