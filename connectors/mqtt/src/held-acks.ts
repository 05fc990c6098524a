import type { IPublishPacket, MqttClient } from "mqtt";
import { SluiceError } from "sluice/connector";

/**
 * What the ack handler answers mqtt.js with so that it sends no PUBACK (QoS 1) or PUBREC
 * (QoS 2) for a message. mqtt.js then reports it as an 'error' event, which the connectors
 * recognise by identity and ignore.
 *
 * Why not simply hold the callback until the batch is output? mqtt.js handles incoming packets
 * one at a time and waits for that callback before it reads the next one, so holding it would
 * stall the connection (no other message, not even the keep-alive answer) until the batch was
 * done.
 */
export const HOLD_ACK: Error = Object.freeze(
  new Error("acknowledgement held until the batch is output"),
) as Error;

/**
 * Receives one QoS 1 or 2 message whose acknowledgement is held. Returning a promise holds
 * mqtt.js's next packet until it settles (see `holdAcks`).
 */
export type HeldMessageHandler = (
  topic: string,
  payload: Buffer,
  packet: IPublishPacket,
) => void | Promise<void>;

/**
 * An mqtt.js `customHandleAcks` (MQTT 5 only) that hands every QoS 1/2 message to `onMessage`
 * and keeps mqtt.js from acknowledging it; acknowledge later with `sendAck`. When `onMessage`
 * returns a promise, mqtt.js is answered once it settles: until then it handles no further
 * packet and, its input buffer full, stops reading the socket, so TCP flow control holds the
 * broker back. Only for a broker that overruns the Receive Maximum: keep-alive answers wait too.
 *
 * @example
 * mqtt.connect({ protocolVersion: 5, customHandleAcks: holdAcks((topic, payload, packet) => queue.push(packet)) });
 */
export function holdAcks(onMessage: HeldMessageHandler) {
  return (
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
    done: (error: Error | number, code?: number) => void,
  ): void => {
    let waiting: unknown;
    try {
      waiting = onMessage(topic, payload, packet);
    } finally {
      if (!(waiting instanceof Promise)) done(HOLD_ACK);
    }
    if (waiting instanceof Promise) {
      const answer = (): void => done(HOLD_ACK);
      waiting.then(answer, answer);
    }
  };
}

type PacketWriter = (
  packet: { cmd: "puback" | "pubrec"; messageId: number },
  callback?: (error?: Error) => void,
) => void;

/**
 * The function that sends an acknowledgement packet on `client`'s connection: mqtt.js's own
 * packet writer, which it does not export (checked here, so that an mqtt.js without it fails
 * at connect with a clear message rather than later).
 *
 * @example
 * const send = ackSender(client);
 * send(packet.messageId, packet.qos); // PUBACK for QoS 1, PUBREC for QoS 2
 */
export function ackSender(client: MqttClient): (packetId: number, qos: 1 | 2) => void {
  const writer: unknown = (client as unknown as Record<string, unknown>)._sendPacket;
  if (typeof writer !== "function") {
    throw new SluiceError(
      "SLUICE_INTERNAL",
      "this mqtt.js version has no _sendPacket, which the MQTT connector uses to acknowledge messages once their batch is output; install mqtt 5.x as @sluice/mqtt's package.json says",
    );
  }
  const write = (writer as PacketWriter).bind(client);
  return (packetId, qos) => {
    write({ cmd: qos === 1 ? "puback" : "pubrec", messageId: packetId });
  };
}
