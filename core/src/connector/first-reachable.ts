import { NotConnectedError } from "./control-flow.js";

/**
 * Tries `servers` in order and resolves with the first that `attempt` connects to. A server
 * that cannot be reached (`attempt` rejects with `NotConnectedError`) passes to the next; any
 * other rejection is final, as is an abort. When none answers, the error lists every server's
 * failure (the only one's, when there was one).
 *
 * @example
 * const { value: connection, server } = await firstReachable(addresses, (a) => open(a), signal, "RabbitMQ broker");
 */
export async function firstReachable<S, T>(
  servers: readonly S[],
  attempt: (server: S) => Promise<T>,
  signal: AbortSignal,
  what: string,
): Promise<{ value: T; server: S }> {
  const failures: NotConnectedError[] = [];
  for (const server of servers) {
    signal.throwIfAborted();
    try {
      return { value: await attempt(server), server };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (!(error instanceof NotConnectedError)) throw error;
      failures.push(error);
    }
  }
  if (failures.length === 1 && failures[0] !== undefined) throw failures[0];
  throw new NotConnectedError(
    `Cannot reach any ${what} (${failures.length} tried):\n${failures.map((failure) => `  - ${failure.message}`).join("\n")}`,
    { cause: new AggregateError(failures.map((failure) => failure.cause)) },
  );
}
