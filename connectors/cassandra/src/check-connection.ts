import type { Logger } from "pino";
import {
  closeQuietly,
  NotConnectedError,
  SluiceError,
  validateConfig,
  warnAboutTls,
} from "sluice/connector";
import {
  createCassandraClient,
  isUnreachable,
  reasonOf,
  unreachableMessage,
} from "./cassandra-client.js";
import { type CassandraClientConfigInput, cassandraClientConfig } from "./client-config.js";
import { connectRefusal } from "./connect-refusal.js";
import { openClient } from "./open-client.js";

/** What `checkConnection` found. */
export interface CassandraConnectionInfo {
  readonly clusterName: string;
  readonly releaseVersion: string;
  /** The nodes the client found, as "host:port". */
  readonly hosts: readonly string[];
}

/**
 * Connects once and reads the cluster's name and version: a quick check of a config before a
 * job runs. Rejects with `NotConnectedError` when no node answers (the message names the
 * addresses and what to check), `SLUICE_CONNECTOR_REFUSED` when a node refuses (credentials,
 * data centre), and `SLUICE_INVALID_CONFIG` for a malformed config.
 *
 * @example
 * const info = await checkConnection({ contactPoints: ["127.0.0.1:9042"] });
 * console.log(info.releaseVersion);
 */
export async function checkConnection(
  config: CassandraClientConfigInput,
  logger?: Logger,
): Promise<CassandraConnectionInfo> {
  const parsed = validateConfig(cassandraClientConfig, config, "Cassandra connection");
  warnAboutTls(parsed.tls, logger, "Cassandra connection check");
  const client = createCassandraClient(parsed);
  try {
    await openClient(client, parsed, "the connection check");
    const local = (
      await client.execute("SELECT cluster_name, release_version FROM system.local")
    ).first();
    return {
      clusterName: String(local?.get("cluster_name") ?? ""),
      releaseVersion: String(local?.get("release_version") ?? ""),
      hosts: client.hosts.values().map((host) => host.address),
    };
  } catch (error) {
    logger?.debug({ err: error }, "Cassandra connection check failed");
    if (error instanceof SluiceError) throw error;
    const refusal = connectRefusal(error, parsed.contactPoints, "the connection check");
    if (refusal !== undefined) throw refusal;
    if (isUnreachable(error)) {
      throw new NotConnectedError(unreachableMessage(parsed, error), {
        cause: error,
      });
    }
    throw new SluiceError(
      "SLUICE_CONNECTOR_REFUSED",
      `Cassandra at ${parsed.contactPoints.join(", ")} refused the connection: ${reasonOf(error)}. Check localDataCenter and the credentials/tls settings.`,
      { cause: error },
    );
  } finally {
    await closeQuietly(() => client.shutdown(), 10_000);
  }
}
