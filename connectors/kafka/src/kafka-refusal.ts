import { SluiceError, tlsRefused } from "sluice/connector";
import { answeredNotKafka, protocolErrorType, rootMessage } from "./kafka-client.js";

/** What a Kafka client was doing, for the words of a refusal. */
export interface KafkaResources {
  /** "the source", "the sink", "the connection check". */
  readonly who: string;
  /** The topics it reads or writes, as shown (e.g. `"orders"` or `/orders-.*\/`). */
  readonly topics?: string;
  readonly groupId?: string;
  readonly transactionalId?: string;
  /** The ACL operation the topics need: Read for a source, Write for a sink. */
  readonly topicOperation?: "Read" | "Write";
}

function hasName(error: unknown, name: string): boolean {
  for (let current = error, depth = 0; depth < 10; depth++) {
    if (typeof current !== "object" || current === null) return false;
    if ((current as { name?: unknown }).name === name) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The refusal behind a kafkajs failure as a `SLUICE_CONNECTOR_REFUSED` error naming what to
 * fix, or undefined when the failure is something else: a broker address where another kind
 * of server answers (`brokers`), a failed TLS handshake (`tls.ca`,
 * `tls.servername`, ...), a failed SASL login (`sasl.password`), or an ACL the principal lacks
 * (the resource and the operation to grant). kafkajs never puts the password in its messages.
 *
 * @example
 * throw kafkaRefusal(error, ["127.0.0.1:9094"], { who: "the sink", topics: '"orders"', topicOperation: "Write" }) ?? other;
 */
export function kafkaRefusal(
  error: unknown,
  brokers: readonly string[],
  resources: KafkaResources,
): SluiceError | undefined {
  const at = `Kafka at ${brokers.join(", ")}`;
  const tls = tlsRefused(error, at);
  if (tls !== undefined) return tls;
  const refused = (what: string) =>
    new SluiceError("SLUICE_CONNECTOR_REFUSED", `${at} ${what}`, { cause: error });
  if (answeredNotKafka(error)) {
    return refused(
      `did not answer ${resources.who} in Kafka's protocol: another kind of server listens there (${rootMessage(error)}). Check "brokers": each must be the host:port of a Kafka listener (9092 by default), and "tls" when that listener expects TLS.`,
    );
  }
  if (hasName(error, "KafkaJSSASLAuthenticationError")) {
    return refused(
      `refused the SASL login of ${resources.who} (${rootMessage(error)}). Check "sasl.username", "sasl.password" and "sasl.mechanism".`,
    );
  }
  const { who, topics = "(none)", groupId, transactionalId, topicOperation = "Read" } = resources;
  switch (protocolErrorType(error)) {
    case "TOPIC_AUTHORIZATION_FAILED":
      return refused(
        `denied ${who} access to topic ${topics} (${rootMessage(error)}). Grant the principal ${topicOperation} and Describe on the topic (kafka-acls --add --allow-principal User:<name> --operation ${topicOperation} --topic <topic>), or change "topics".`,
      );
    case "GROUP_AUTHORIZATION_FAILED":
      return refused(
        `denied ${who} access to consumer group "${groupId ?? "(none)"}" (${rootMessage(error)}). Grant the principal Read on the group, or change "groupId".`,
      );
    case "TRANSACTIONAL_ID_AUTHORIZATION_FAILED":
      return refused(
        `denied ${who} the transactional id "${transactionalId ?? "(none)"}" (${rootMessage(error)}). Grant the principal Write and Describe on it, or change "transactionalId".`,
      );
    case "CLUSTER_AUTHORIZATION_FAILED":
      return refused(
        `denied ${who} a cluster operation (${rootMessage(error)}); the idempotent producer needs IdempotentWrite on the cluster or Write on the topic ${topics}. Grant it to the principal.`,
      );
    case "ILLEGAL_SASL_STATE":
      // What a listener without SASL answers a SASL handshake with.
      return refused(
        `did not take the SASL login of ${who} (${rootMessage(error)}): the listener at that port takes no SASL. Check "brokers" (the port of a SASL listener) or remove "sasl".`,
      );
    case "SASL_AUTHENTICATION_FAILED":
    case "UNSUPPORTED_SASL_MECHANISM":
      return refused(
        `refused the SASL login of ${who} (${rootMessage(error)}). Check "sasl.username", "sasl.password" and "sasl.mechanism".`,
      );
  }
  return undefined;
}
