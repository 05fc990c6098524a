import type { IClientPublishOptions } from "mqtt";

const encoder = new TextEncoder();

/**
 * The size in bytes of the MQTT 5 PUBLISH packet mqtt.js makes of a message, as the broker's
 * `maximumPacketSize` (in its CONNACK) counts it: fixed header, topic, packet id (QoS 1/2),
 * properties and payload.
 *
 * @example
 * publishPacketBytes("sensors/1", 120, { qos: 1 }); // 138
 */
export function publishPacketBytes(
  topic: string,
  payloadBytes: number,
  options: IClientPublishOptions,
): number {
  const properties = propertyBytes(options.properties);
  const remaining =
    2 +
    encoder.encode(topic).byteLength +
    ((options.qos ?? 0) > 0 ? 2 : 0) +
    varintBytes(properties) +
    properties +
    payloadBytes;
  return 1 + varintBytes(remaining) + remaining;
}

// The properties the sink sets: user properties, content type, message expiry.
function propertyBytes(properties: IClientPublishOptions["properties"]): number {
  if (properties === undefined) return 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(properties.userProperties ?? {})) {
    const nameBytes = encoder.encode(name).byteLength;
    for (const one of Array.isArray(value) ? value : [value]) {
      bytes += 1 + 2 + nameBytes + 2 + encoder.encode(String(one)).byteLength;
    }
  }
  if (properties.contentType !== undefined) {
    bytes += 1 + 2 + encoder.encode(properties.contentType).byteLength;
  }
  if (properties.messageExpiryInterval !== undefined) bytes += 1 + 4;
  return bytes;
}

// MQTT's variable byte integer: 7 bits per byte.
function varintBytes(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  return 4;
}
