import type { IHeaders } from "kafkajs";

/**
 * A message's headers with every binary value copied out of kafkajs's fetch response into one
 * small buffer of their own (strings are kept). kafkajs decodes a header value as a view into
 * the whole response (up to `maxBytes`, megabytes), so a record's header held in a window or in
 * state would otherwise keep that response alive as long as the record lives.
 *
 * @example
 * const headers = compactHeaders(message.headers);
 * headers.trace.buffer.byteLength; // the bytes of this message's header values, not the fetch's
 */
export function compactHeaders(headers: IHeaders): IHeaders {
  let bytes = 0;
  let buffers = 0;
  for (const name in headers) {
    const raw = headers[name];
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (value === undefined || value === null || typeof value === "string") continue;
      bytes += value.byteLength;
      buffers++;
    }
  }
  // An empty value is a view as well: it too would keep the response alive.
  if (buffers === 0) return headers;
  // One allocation per message, outside Node's shared pool (a pooled Buffer would keep an
  // 8 KiB slab alive for a header of a few bytes).
  const store = new ArrayBuffer(bytes);
  let at = 0;
  const copy = (value: Buffer): Buffer => {
    const target = Buffer.from(store, at, value.byteLength);
    target.set(value);
    at += value.byteLength;
    return target;
  };
  const compact: IHeaders = {};
  for (const name in headers) {
    const raw = headers[name];
    if (Array.isArray(raw)) {
      compact[name] = raw.map((value) => (typeof value === "string" ? value : copy(value)));
    } else if (raw !== undefined && raw !== null && typeof raw !== "string") {
      compact[name] = copy(raw);
    } else {
      compact[name] = raw;
    }
  }
  return compact;
}
