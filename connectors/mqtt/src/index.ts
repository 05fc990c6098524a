import { defineSink, defineSource, refuseInKeyedCluster } from "sluice/connector";
import { refuseUnsharedInCluster } from "./cluster-mode.js";
import { MqttSink } from "./mqtt-sink.js";
import { MqttSource } from "./mqtt-source.js";
import { mqttSinkConfig } from "./sink-config.js";
import { mqttSourceConfig } from "./source-config.js";

const VERSION = "0.1.0";

/**
 * The MQTT source plugin: subscribes with a persistent session and acknowledges each QoS 1/2
 * message to the broker only when Sluice acknowledges the read that returned it (after the
 * batch holding it was output, or once it is in the write-ahead log when the job checkpoints).
 * Not replayable in Sluice's sense (a broker cannot deliver acknowledged messages again from an
 * offset), so with checkpointing its records go through the write-ahead log.
 *
 * @example
 * ctx.use(mqttSource);
 * const readings = ctx.source("mqtt", { url: "mqtt://127.0.0.1", clientId: "plant-7", topics: ["sensors/#"] });
 */
export const mqttSource = defineSource({
  name: "mqtt",
  version: VERSION,
  description:
    "Subscribes to MQTT topics with a persistent session; QoS 1/2 messages are acknowledged once their batch is output.",
  config: mqttSourceConfig,
  capabilities: { replayable: false },
  create: (config, context) => {
    refuseUnsharedInCluster(config, context);
    refuseInKeyedCluster(`MQTT source of client id "${config.clientId}"`, "MQTT", context);
    return new MqttSource(config, context.logger);
  },
});

/**
 * The MQTT sink plugin: publishes each record to a topic built from it. Not idempotent: a
 * replayed batch is published again.
 *
 * @example
 * averages.sink("mqtt", { url: "mqtt://127.0.0.1", topic: "sensors/{key}/avg", retain: true });
 */
export const mqttSink = defineSink({
  name: "mqtt",
  version: VERSION,
  description: "Publishes records to MQTT topics built from each record, at QoS 0, 1 or 2.",
  config: mqttSinkConfig,
  capabilities: { idempotent: false },
  create: (config, context) => new MqttSink(config, context.logger),
});

/** Both plugins, for `registry.loadPlugins(["@sluice/mqtt"])`. */
export const plugins = [mqttSource, mqttSink];
export default plugins;

// The template lives in core; re-exported so `@sluice/mqtt` keeps offering it.
export { RecordTemplate, TEMPLATE_PLACEHOLDERS } from "sluice/connector";
export { checkConnection, type MqttConnectionCheck } from "./check-connection.js";
export {
  type BrokerAddress,
  brokerAddresses,
  explainConnectError,
  type MqttConnect,
} from "./connect.js";
export { type ConnectionConfig, connectionConfig, tlsOptions } from "./connection-config.js";
export { HOLD_ACK } from "./held-acks.js";
export { MqttSink, type MqttSinkMetrics } from "./mqtt-sink.js";
export { MqttSource, type MqttSourceMetrics } from "./mqtt-source.js";
export {
  RETIRE_MARKER_PREFIX,
  type RetiredMember,
  retireSharedMember,
} from "./retire-member.js";
export { type MqttSinkConfig, mqttSinkConfig, type TopicFunction } from "./sink-config.js";
export {
  type MqttSourceConfig,
  mqttSourceConfig,
  subscriptionOptions,
  subscriptionsOf,
} from "./source-config.js";
export { topicFilterProblem, topicNameProblem } from "./topics.js";
