import { SluiceError } from "../errors/sluice-error.js";
import type { ClusterOptions } from "./cluster-options.js";

/**
 * The cluster a run joins: `--cluster group[@host:port,...]` over the config file's `cluster`
 * (the flag's group and brokers win; TLS, SASL and the process id come from the file).
 * Undefined when neither asks for one.
 *
 * @example
 * clusterOfRun("word-count@127.0.0.1:9092", undefined);
 * // { group: "word-count", kafka: { brokers: ["127.0.0.1:9092"] } }
 */
export function clusterOfRun(
  flag: string | undefined,
  fromConfig: ClusterOptions | undefined,
): ClusterOptions | undefined {
  if (flag === undefined) return fromConfig;
  const at = flag.indexOf("@");
  const group = at < 0 ? flag : flag.slice(0, at);
  const brokers =
    at < 0
      ? fromConfig?.kafka.brokers
      : flag
          .slice(at + 1)
          .split(",")
          .map((broker) => broker.trim())
          .filter((broker) => broker !== "");
  if (brokers === undefined || brokers.length === 0) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `--cluster ${flag}: name the Kafka brokers, as --cluster ${group}@host:port,host:port or cluster.kafka.brokers in the config file`,
    );
  }
  return {
    ...fromConfig,
    group,
    kafka: { ...fromConfig?.kafka, brokers },
  };
}
