import type { Logger } from "pino";
import {
  closeQuietly,
  NotConnectedError,
  SluiceError,
  validateConfig,
  warnAboutTls,
} from "sluice/connector";
import { type KafkaClientConfigInput, kafkaClientConfig } from "./client-config.js";
import {
  createKafkaClient,
  isConnectionProblem,
  rootMessage,
  unreachableMessage,
} from "./kafka-client.js";
import { kafkaRefusal } from "./kafka-refusal.js";

/** What `checkConnection` found. */
export interface KafkaConnectionInfo {
  readonly clusterId: string;
  /** The brokers of the cluster, as "host:port". */
  readonly brokers: readonly string[];
  /** The node id of the controller. */
  readonly controller: number | null;
}

/**
 * Connects to the brokers once and describes the cluster: a quick check of a config before a
 * job runs. Rejects with `NotConnectedError` when no broker answers (the message names the
 * addresses and what to check), and with `SLUICE_INVALID_CONFIG` for a malformed config.
 *
 * @example
 * const info = await checkConnection({ brokers: ["127.0.0.1:9092"] });
 * console.log(info.clusterId, info.brokers);
 */
export async function checkConnection(
  config: KafkaClientConfigInput,
  logger?: Logger,
): Promise<KafkaConnectionInfo> {
  const parsed = validateConfig(kafkaClientConfig, config, "Kafka connection");
  warnAboutTls(parsed.tls, logger, "Kafka connection check");
  const admin = createKafkaClient(parsed, logger, { retries: 1 }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return {
      clusterId: cluster.clusterId,
      brokers: cluster.brokers.map(({ host, port }) => `${host}:${port}`),
      controller: cluster.controller,
    };
  } catch (error) {
    const refusal = kafkaRefusal(error, parsed.brokers, { who: "the connection check" });
    if (refusal !== undefined) throw refusal;
    if (isConnectionProblem(error)) {
      throw new NotConnectedError(unreachableMessage(parsed.brokers, error), { cause: error });
    }
    throw new SluiceError(
      "SLUICE_CONNECTOR_REFUSED",
      `Kafka at ${parsed.brokers.join(", ")} answered but refused the check: ${rootMessage(error)}. Check the sasl/tls settings.`,
      { cause: error },
    );
  } finally {
    await closeQuietly(() => admin.disconnect(), 5_000);
  }
}
