import type { StreamingContext } from "../context/streaming-context.js";

/**
 * The thread ids of a running context's executors (empty without executors or once stopped).
 *
 * @example
 * executorThreadIds(ctx); // [5, 6] under local[2]
 */
export function executorThreadIds(context: StreamingContext): number[] {
  return context.scope.execution()?.threadIds() ?? [];
}
