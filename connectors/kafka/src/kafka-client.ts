import { Kafka, type KafkaConfig, type logCreator, logLevel } from "kafkajs";
import type { Logger } from "pino";
import { clientTlsOptions, tlsFailureOf, unloadableTls } from "sluice/connector";
import type { KafkaClientConfig } from "./client-config.js";
import { guardedSocketFactory, NOT_KAFKA_CODE } from "./kafka-socket.js";
import { readAbortedTransactionsCorrectly } from "./read-committed.js";

/**
 * Builds the kafkajs client for a parsed config. kafkajs log lines go to `logger` (its errors at
 * warn level: kafkajs logs every failure it is about to retry as an error). Throws
 * `SLUICE_INVALID_CONFIG` for TLS settings Node cannot load. Its consumers skip every record of
 * an aborted transaction (kafkajs alone lets some through, see read-committed.ts).
 *
 * @example
 * const kafka = createKafkaClient(config, logger);
 * const admin = kafka.admin();
 */
export function createKafkaClient(
  config: KafkaClientConfig,
  logger: Logger | undefined,
  overrides: { readonly retries?: number } = {},
): Kafka {
  readAbortedTransactionsCorrectly();
  const options: KafkaConfig = {
    clientId: config.clientId,
    brokers: [...config.brokers],
    connectionTimeout: config.connectionTimeoutMs,
    socketFactory: guardedSocketFactory(),
    requestTimeout: config.requestTimeoutMs,
    retry: {
      retries: overrides.retries ?? config.retries,
      initialRetryTime: 100,
      maxRetryTime: 5_000,
    },
    ...(logger === undefined
      ? { logLevel: logLevel.NOTHING }
      : { logLevel: logLevel.INFO, logCreator: pinoLogCreator(logger) }),
  };
  const tls = clientTlsOptions(config.tls);
  if (tls !== undefined) {
    // kafkajs turns TLS settings Node cannot load into "Failed to connect" without the reason's
    // code, which reads like a broker that is down: refuse them here, naming the setting.
    const problem = unloadableTls(tls, `Kafka at ${config.brokers.join(", ")}`);
    if (problem !== undefined) throw problem;
    options.ssl = { ...tls };
  }
  if (config.sasl !== undefined) {
    const { mechanism, username, password } = config.sasl;
    options.sasl =
      mechanism === "plain"
        ? { mechanism, username, password }
        : mechanism === "scram-sha-256"
          ? { mechanism, username, password }
          : { mechanism, username, password };
  }
  return new Kafka(options);
}

function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...details } = log;
      const entry = { kafkajs: namespace, ...details };
      if (level === logLevel.ERROR) logger.warn(entry, message);
      else if (level === logLevel.WARN) logger.info(entry, message);
      else logger.debug(entry, message);
    };
}

const CONNECTION_ERRORS = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSMetadataNotLoaded",
]);
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
]);

// Protocol errors of a cluster moving its coordinators or leaders (after a broker restart, say):
// kafkajs retries them a few times, and when a busy broker outlasts that, a new connection and
// a retry of the batch get through.
const MOVING_CLUSTER_ERRORS = new Set([
  "NOT_COORDINATOR",
  "COORDINATOR_NOT_AVAILABLE",
  "COORDINATOR_LOAD_IN_PROGRESS",
  "NOT_LEADER_FOR_PARTITION",
  "NOT_LEADER_OR_FOLLOWER",
  "LEADER_NOT_AVAILABLE",
]);

/**
 * True when `error` (or an error it wraps) says the brokers could not be reached, or are still
 * moving their coordinators or partition leaders, as opposed to a refusal such as failed
 * authentication, a missing permission or a failed TLS handshake: reconnecting and trying again
 * gets through.
 *
 * @example
 * if (isConnectionProblem(error)) throw unreachable(config, error);
 */
export function isConnectionProblem(error: unknown): boolean {
  // kafkajs reports a failed TLS handshake as a connection error, but it fails the same way
  // every time: a refusal, not something to retry.
  if (tlsFailureOf(error) !== undefined) return false;
  // Another server's port answers the same way every time too.
  if (answeredNotKafka(error)) return false;
  for (let current = error, depth = 0; current !== undefined && depth < 10; depth++) {
    if (typeof current !== "object" || current === null) return false;
    const { name, code, message, type } = current as {
      name?: unknown;
      code?: unknown;
      message?: unknown;
      type?: unknown;
    };
    if (typeof name === "string" && CONNECTION_ERRORS.has(name)) return true;
    if (typeof type === "string" && MOVING_CLUSTER_ERRORS.has(type)) return true;
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return true;
    if (
      typeof message === "string" &&
      /Connection error|Closed connection|ECONNREFUSED/.test(message)
    ) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The Kafka protocol error type (e.g. `UNKNOWN_TOPIC_OR_PARTITION`) in an error chain, if any.
 *
 * @example
 * if (protocolErrorType(error) === "TOPIC_AUTHORIZATION_FAILED") throw refused(error);
 */
export function protocolErrorType(error: unknown): string | undefined {
  let current = error;
  for (let depth = 0; depth < 10 && typeof current === "object" && current !== null; depth++) {
    const { type } = current as { type?: unknown };
    if (typeof type === "string") return type;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The innermost message of an error chain: kafkajs wraps the reason in "retries exceeded".
 *
 * @example
 * rootMessage(error); // "Connection error: connect ECONNREFUSED 127.0.0.1:19092"
 */
export function rootMessage(error: unknown): string {
  let current = error;
  for (let depth = 0; depth < 10; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) break;
    current = cause;
  }
  return current instanceof Error ? current.message : String(current);
}

/**
 * What to tell a user whose brokers do not answer: the addresses, the reason, what to check.
 *
 * @example
 * throw new NotConnectedError(unreachableMessage(["127.0.0.1:9092"], error), { cause: error });
 */
export function unreachableMessage(brokers: readonly string[], error: unknown): string {
  const first = brokers[0] ?? "(no broker)";
  return `Cannot reach Kafka at ${brokers.join(", ")}: ${rootMessage(error)}. Is Kafka running at ${first}? Check the \`brokers\` setting, that the broker is up and reachable from this machine, and the tls/sasl settings.`;
}

/**
 * True when `error` (or an error it wraps) says a broker address answered bytes that are not
 * Kafka's protocol (kafka-socket.ts): the `brokers` setting names another server's port.
 *
 * @example
 * if (answeredNotKafka(error)) throw refusedAsNotKafka(error);
 */
export function answeredNotKafka(error: unknown): boolean {
  for (let current = error, depth = 0; depth < 10; depth++) {
    if (typeof current !== "object" || current === null) return false;
    if ((current as { code?: unknown }).code === NOT_KAFKA_CODE) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
