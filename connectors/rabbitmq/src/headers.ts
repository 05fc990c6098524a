import type { ConsumeMessage } from "amqplib";
import type { RecordHeaders } from "sluice/connector";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Headers the source adds from the delivery itself; the sink never publishes them. */
export const DELIVERY_HEADER_PREFIX = "amqp-";

/**
 * A delivery's headers as record headers: every AMQP header (text as UTF-8, byte arrays as
 * they are, numbers and booleans as their text, tables and arrays as JSON), plus the delivery's
 * `amqp-exchange`, `amqp-routing-key`, `amqp-redelivered` and, when set, `amqp-message-id`,
 * `amqp-correlation-id`, `amqp-content-type` and `amqp-type`.
 *
 * @example
 * const headers = recordHeaders(message);
 * new TextDecoder().decode(headers["amqp-redelivered"]); // "true" or "false"
 */
export function recordHeaders(message: ConsumeMessage): RecordHeaders {
  const headers: Record<string, Uint8Array> = {};
  for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
    const bytes = headerBytes(value);
    if (bytes !== undefined) headers[name] = bytes;
  }
  const { fields, properties } = message;
  headers["amqp-exchange"] = encoder.encode(fields.exchange);
  headers["amqp-routing-key"] = encoder.encode(fields.routingKey);
  headers["amqp-redelivered"] = encoder.encode(String(fields.redelivered));
  const optional: Record<string, unknown> = {
    "amqp-message-id": properties.messageId,
    "amqp-correlation-id": properties.correlationId,
    "amqp-content-type": properties.contentType,
    "amqp-type": properties.type,
  };
  for (const [name, value] of Object.entries(optional)) {
    if (typeof value === "string") headers[name] = encoder.encode(value);
  }
  return headers;
}

/**
 * Record headers as AMQP headers for publishing: UTF-8 text as strings, other bytes as byte
 * arrays; `amqp-*` headers (the source's delivery details) are left out.
 *
 * @example
 * channel.publish(exchange, routingKey, content, { headers: amqpHeaders(record.headers) });
 */
export function amqpHeaders(headers: RecordHeaders | undefined): Record<string, string | Buffer> {
  const out: Record<string, string | Buffer> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.startsWith(DELIVERY_HEADER_PREFIX)) continue;
    try {
      out[name] = strictDecoder.decode(value);
    } catch {
      out[name] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  }
  return out;
}

function headerBytes(value: unknown): Uint8Array | undefined {
  if (value === undefined || value === null) return undefined;
  // amqplib decodes a byte-array header as a view into the frame read from the socket: a copy
  // keeps only the header's bytes alive as long as the record lives (in a window, in state).
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (typeof value === "string") return encoder.encode(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return encoder.encode(String(value));
  }
  if (value instanceof Date) return encoder.encode(value.toISOString());
  return encoder.encode(
    JSON.stringify(value, (_key, item: unknown) =>
      typeof item === "bigint" ? item.toString() : item,
    ),
  );
}
