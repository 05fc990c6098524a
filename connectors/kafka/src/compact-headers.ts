import type { IHeaders, KafkaMessage } from "kafkajs";

/**
 * The headers of a fetched batch's messages (`undefined` for a message without any), with
 * every binary value copied out of kafkajs's fetch response into one buffer of the batch's
 * header bytes; strings are kept. kafkajs decodes a header value as a view into the whole
 * response (up to `maxBytes`, megabytes), so a record's header held in a window or in state
 * would otherwise keep that response alive as long as the record lives. A header now keeps
 * alive only the header bytes of its batch, as its value keeps the read's values (one blob).
 *
 * @example
 * const headers = compactHeaders(messages);
 * headers[0]?.trace; // a Buffer over the batch's header bytes, not over the fetch response
 */
export function compactHeaders(messages: readonly KafkaMessage[]): (IHeaders | undefined)[] {
  let bytes = 0;
  let buffers = 0;
  for (const { headers } of messages) {
    for (const name in headers) {
      const raw = headers[name];
      for (const value of Array.isArray(raw) ? raw : [raw]) {
        if (value === undefined || value === null || typeof value === "string") continue;
        bytes += value.byteLength;
        buffers++;
      }
    }
  }
  // Not one buffer to copy (an empty value is a view as well, and would keep the response too).
  if (buffers === 0)
    return messages.map(({ headers }) => (hasHeaders(headers) ? headers : undefined));
  // One allocation per batch, of its own memory (a slice of Node's shared pool would keep an
  // 8 KiB slab alive).
  const store = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  const copy = (value: Buffer): Buffer => {
    store.set(value, at);
    at += value.byteLength;
    return store.subarray(at - value.byteLength, at);
  };
  return messages.map(({ headers }) => {
    if (!hasHeaders(headers)) return undefined;
    const compact: IHeaders = {};
    for (const name in headers) {
      const raw = headers[name];
      if (Array.isArray(raw)) {
        // A header without a value (null) in a name given more than once stays null.
        compact[name] = raw.map((value) =>
          typeof value === "string" || isNull(value) ? value : copy(value),
        );
      } else if (raw !== undefined && raw !== null && typeof raw !== "string") {
        compact[name] = copy(raw);
      } else {
        compact[name] = raw;
      }
    }
    return compact;
  });
}

function hasHeaders(headers: IHeaders | undefined): headers is IHeaders {
  for (const _ in headers) return true;
  return false;
}

// kafkajs decodes a header without a value (Kafka allows it; Java clients write it) as null,
// which its types leave out.
function isNull(value: unknown): value is null {
  return value === null;
}
