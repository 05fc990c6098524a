import { type Client, errors } from "cassandra-driver";
import { clientTlsOptions, SluiceError } from "sluice/connector";
import type { CassandraClientConfig } from "./client-config.js";
import {
  type ContactPointProbe,
  type ProbeAnswer,
  probeNativeProtocol,
} from "./native-protocol-probe.js";

/** How `openClient` asks the contact points first. */
export interface OpenClientOptions {
  /** Ends the probes (the caller ends the connect itself, e.g. with `abortable`). */
  readonly signal?: AbortSignal | undefined;
  /** Default `probeNativeProtocol`. */
  readonly probe?: ContactPointProbe | undefined;
}

/**
 * Connects `client` once each contact point answered a native-protocol request like Cassandra,
 * or could not be asked (the driver then reports why). A contact point where another kind of
 * server answers is refused (`SLUICE_CONNECTOR_REFUSED`, never retried) before the driver
 * talks to it: the driver would take it for a node that is down and retry it for ever, and
 * some answers crash its parser. When every contact point took the connection and said nothing
 * within `requestTimeoutMs`, the connect fails as the driver's would (no host answered in time),
 * without waiting that long a second time.
 *
 * @example
 * await abortable(openClient(client, config, "the sink of shop.orders", { signal }), signal);
 */
export async function openClient(
  client: Client,
  config: CassandraClientConfig,
  who: string,
  { signal, probe = probeNativeProtocol }: OpenClientOptions = {},
): Promise<void> {
  const tls = clientTlsOptions(config.tls);
  const answers = await Promise.all(
    config.contactPoints.map(async (contactPoint) => ({
      contactPoint,
      answer: await probe(contactPoint, {
        tls,
        connectTimeoutMs: config.connectTimeoutMs,
        answerTimeoutMs: config.requestTimeoutMs,
        signal,
      }),
    })),
  );
  signal?.throwIfAborted();
  const foreign = answers.filter(
    (entry): entry is { contactPoint: string; answer: Extract<ProbeAnswer, { kind: "foreign" }> } =>
      entry.answer.kind === "foreign",
  );
  if (foreign.length > 0) throw notCassandra(config, foreign, who);
  if (answers.every(({ answer }) => answer.kind === "silent")) {
    throw new errors.NoHostAvailableError(
      Object.fromEntries(
        config.contactPoints.map((point) => [
          point,
          new errors.OperationTimedOutError(
            `The host ${point} did not reply before timeout ${config.requestTimeoutMs} ms`,
            point,
          ),
        ]),
      ),
    );
  }
  await client.connect();
}

function notCassandra(
  config: CassandraClientConfig,
  foreign: readonly {
    contactPoint: string;
    answer: Extract<ProbeAnswer, { kind: "foreign" }>;
  }[],
  who: string,
): SluiceError {
  const points = foreign.map(
    ({ contactPoint, answer }) =>
      `${contactPoint} (it answered ${answer.tls ? "with a TLS record" : answer.answer})`,
  );
  const expectsTls = foreign.some(({ answer }) => answer.tls);
  return new SluiceError(
    "SLUICE_CONNECTOR_REFUSED",
    `Cassandra at ${config.contactPoints.join(", ")} did not answer ${who} in Cassandra's protocol: ${points.join("; ")} ${foreign.length === 1 ? "is not a Cassandra native-protocol port" : "are not Cassandra native-protocol ports"}${expectsTls ? " without TLS" : "; another kind of server listens there"}. ${expectsTls ? 'That port expects TLS: set "tls" (true, or the CA in "tls.ca"), or use the node\'s port without TLS.' : 'Check "contactPoints": each must be the host:port of a Cassandra node\'s native transport (native_transport_port, 9042 by default).'}`,
  );
}
