import type { IPublishPacket } from "mqtt";
import type { RecordHeaders } from "sluice/connector";

/** MQTT 5 user properties: names to one or several text values. */
export type UserProperties = Record<string, string | string[]>;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** What of a PUBLISH packet its record headers are made of (not its payload). */
export type PacketDetails = Pick<IPublishPacket, "qos" | "retain" | "dup" | "properties">;

/**
 * The details of `packet` its headers are made of, without the payload (which a source holding
 * them until the headers are asked for would otherwise keep alive).
 *
 * @example
 * const details = packetDetails(packet); // later: recordHeaders(details)
 */
export function packetDetails(packet: IPublishPacket): PacketDetails {
  return { qos: packet.qos, retain: packet.retain, dup: packet.dup, properties: packet.properties };
}

/** Headers the source adds from the message itself; the sink never publishes them. */
export const MESSAGE_HEADER_PREFIX = "mqtt-";

/**
 * A message's MQTT 5 user properties as record headers (a property given several times is
 * joined with ", "), plus `mqtt-qos`, `mqtt-retain`, `mqtt-dup` and, when set, `mqtt-content-type`.
 * `mqtt-dup` is `"true"` when the broker sent the message before without getting its
 * acknowledgement (a redelivery after a reconnect or a restart): it may have been processed.
 *
 * @example
 * new TextDecoder().decode(recordHeaders(packet)["mqtt-qos"]); // "1"
 */
export function recordHeaders(packet: PacketDetails): RecordHeaders {
  const headers: Record<string, Uint8Array> = {};
  for (const [name, value] of Object.entries(packet.properties?.userProperties ?? {})) {
    headers[name] = encoder.encode(Array.isArray(value) ? value.join(", ") : String(value));
  }
  headers["mqtt-qos"] = encoder.encode(String(packet.qos));
  headers["mqtt-retain"] = encoder.encode(String(packet.retain));
  headers["mqtt-dup"] = encoder.encode(String(packet.dup === true));
  const contentType = packet.properties?.contentType;
  if (typeof contentType === "string") headers["mqtt-content-type"] = encoder.encode(contentType);
  return headers;
}

/**
 * Record headers as MQTT 5 user properties for publishing; `mqtt-*` headers (the source's
 * message details) are left out. Throws naming the header when one is not UTF-8 text, which
 * MQTT requires of user properties.
 *
 * @example
 * client.publishAsync(topic, payload, { properties: { userProperties: userProperties(record.headers) } });
 */
export function userProperties(headers: RecordHeaders | undefined): UserProperties | undefined {
  const out: UserProperties = {};
  let any = false;
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.startsWith(MESSAGE_HEADER_PREFIX)) continue;
    try {
      out[name] = strictDecoder.decode(value);
      any = true;
    } catch {
      throw new Error(`the header "${name}" is not UTF-8 text, which MQTT user properties must be`);
    }
  }
  return any ? out : undefined;
}
