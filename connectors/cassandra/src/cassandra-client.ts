import { auth, Client, type ClientOptions, errors, policies, types } from "cassandra-driver";
import { clientTlsOptions, tlsFailureOf } from "sluice/connector";
import type { CassandraClientConfig } from "./client-config.js";

/**
 * Builds a driver client for a parsed config (not connected yet). Reconnection to a node that
 * went down is tried from 500 ms on, backing off to 10 s.
 *
 * @example
 * const client = createCassandraClient(config);
 * await client.connect();
 */
export function createCassandraClient(config: CassandraClientConfig): Client {
  const options: ClientOptions = {
    contactPoints: [...config.contactPoints],
    localDataCenter: config.localDataCenter,
    socketOptions: {
      connectTimeout: config.connectTimeoutMs,
      readTimeout: config.requestTimeoutMs,
    },
    policies: {
      reconnection: new policies.reconnection.ExponentialReconnectionPolicy(500, 10_000, false),
    },
    queryOptions: { prepare: true },
  };
  if (config.credentials !== undefined) {
    options.authProvider = new auth.PlainTextAuthProvider(
      config.credentials.username,
      config.credentials.password,
    );
  }
  // The driver checks the server's certificate only when told to (it sets rejectUnauthorized
  // to false otherwise), so the options always say it.
  const tls = clientTlsOptions(config.tls);
  if (tls !== undefined) options.sslOptions = { ...tls };
  return new Client(options);
}

/**
 * The error a statement really failed with: "no host available" wrapping only server answers
 * (the driver tried the next node after an unavailable or overloaded reply) is that answer.
 *
 * @example
 * const reply = serverReply(error); // the ResponseError inside NoHostAvailableError
 */
export function serverReply(error: unknown): unknown {
  if (!(error instanceof errors.NoHostAvailableError)) return error;
  const inner = Object.values((error.innerErrors ?? {}) as Record<string, unknown>);
  const first = inner[0];
  return first !== undefined && inner.every((cause) => cause instanceof errors.ResponseError)
    ? first
    : error;
}

/**
 * True when `error` says the nodes could not be reached (none answered, a connection broke),
 * as opposed to a refusal such as bad credentials or a failed TLS handshake.
 *
 * @example
 * if (isUnreachable(error)) throw new NotConnectedError(unreachableMessage(config, error));
 */
export function isUnreachable(failure: unknown): boolean {
  if (tlsFailureOf(failure) !== undefined) return false;
  const error = serverReply(failure);
  if (error instanceof errors.NoHostAvailableError) {
    const inner = Object.values((error.innerErrors ?? {}) as Record<string, unknown>);
    return !inner.some((cause) => cause instanceof errors.AuthenticationError);
  }
  if (error instanceof errors.OperationTimedOutError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" &&
    /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|EPIPE)$/.test(code)
  );
}

const RETRIABLE_CODES = new Set<number>([
  types.responseErrorCodes.unavailableException,
  types.responseErrorCodes.overloaded,
  types.responseErrorCodes.isBootstrapping,
  types.responseErrorCodes.writeTimeout,
  types.responseErrorCodes.readTimeout,
  types.responseErrorCodes.truncateError,
]);

/**
 * True for failures worth retrying: timeouts, unavailable or overloaded replicas, and nodes
 * that could not be reached.
 *
 * @example
 * if (isRetriable(error) && attempt < maxAttempts) await delay(backoff(attempt));
 */
export function isRetriable(failure: unknown): boolean {
  const error = serverReply(failure);
  if (error instanceof errors.ResponseError) return RETRIABLE_CODES.has(error.code);
  return isUnreachable(error) || error instanceof errors.BusyConnectionError;
}

/**
 * True when Cassandra refused a statement as invalid for the data (a null key, a value of the
 * wrong type, an unknown column), or the driver could not encode a value.
 *
 * @example
 * if (isInvalidData(error)) throw invalidRecord(index, error);
 */
export function isInvalidData(failure: unknown): boolean {
  const error = serverReply(failure);
  if (error instanceof TypeError) return true;
  return (
    error instanceof errors.ResponseError &&
    (error.code === types.responseErrorCodes.invalid ||
      error.code === types.responseErrorCodes.syntaxError)
  );
}

/**
 * True when Cassandra refused a statement because its table or keyspace does not exist (any
 * more): a problem of the table, not of the record being written.
 *
 * @example
 * if (tableGone(error)) throw new NotConnectedError("the table is gone; connecting again checks it");
 */
export function tableGone(failure: unknown): boolean {
  const error = serverReply(failure);
  return (
    error instanceof errors.ResponseError &&
    error.code === types.responseErrorCodes.invalid &&
    /\b(table|keyspace) \S+ does not exist|unconfigured table/i.test(error.message)
  );
}

/**
 * The reason behind a driver error: for "no host available", each node's own failure.
 *
 * @example
 * reasonOf(error); // "127.0.0.1:19042: connect ECONNREFUSED 127.0.0.1:19042"
 */
export function reasonOf(error: unknown): string {
  if (error instanceof errors.NoHostAvailableError) {
    const inner = Object.entries((error.innerErrors ?? {}) as Record<string, unknown>);
    if (inner.length > 0) {
      return inner
        .map(
          ([host, cause]) => `${host}: ${cause instanceof Error ? cause.message : String(cause)}`,
        )
        .join("; ");
    }
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * True when the client gave up waiting for an answer (`requestTimeoutMs`): the node took the
 * connection but did not reply in time, on every node tried.
 *
 * @example
 * if (isClientTimeout(error)) throw new NotConnectedError(unreachableMessage(config, error));
 */
export function isClientTimeout(failure: unknown): boolean {
  if (failure instanceof errors.OperationTimedOutError) return true;
  if (!(failure instanceof errors.NoHostAvailableError)) return false;
  const inner = Object.values((failure.innerErrors ?? {}) as Record<string, unknown>);
  return inner.length > 0 && inner.every((cause) => cause instanceof errors.OperationTimedOutError);
}

/**
 * What to tell a user whose Cassandra nodes do not answer: the addresses, the reason, what to
 * check; for a node that took the connection and then said nothing within `requestTimeoutMs`,
 * that setting.
 *
 * @example
 * throw new NotConnectedError(unreachableMessage(config, error), { cause: error });
 */
export function unreachableMessage(
  {
    contactPoints,
    requestTimeoutMs,
  }: Pick<CassandraClientConfig, "contactPoints" | "requestTimeoutMs">,
  error: unknown,
): string {
  const at = contactPoints.join(", ");
  if (isClientTimeout(error)) {
    return `Cassandra at ${at} took the connection but did not answer within ${requestTimeoutMs} ms ("requestTimeoutMs"): ${reasonOf(error)}. The node may be overloaded, paused or stuck, or another kind of server that never replies listens on that port; the connection counts as lost and Sluice connects again. Check that ${at} is a Cassandra node's native transport port (9042 by default) and that the node is healthy (nodetool status); if it is only slow, raise "requestTimeoutMs".`;
  }
  const first = contactPoints[0] ?? "(no contact point)";
  return `Cannot reach Cassandra at ${at}: ${reasonOf(error)}. Is Cassandra running at ${first}? Check the \`contactPoints\` and \`localDataCenter\` settings, that the node is up and reachable from this machine, and the credentials/tls settings.`;
}
