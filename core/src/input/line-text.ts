import type { SourceRecord } from "../connector/records.js";

// Lines are decoded as they were read: invalid UTF-8 becomes U+FFFD, and a byte order mark stays
// a character of its line (TextDecoder would drop it from the start of every line).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The text of a line read by a line-oriented source (`socket`, `file` in `lines` mode).
 *
 * @example
 * lineText({ value: new TextEncoder().encode("hello"), headers: {}, timestampMs: 0, partition: "a.txt", offset: "6" }); // "hello"
 */
export function lineText(record: SourceRecord): string {
  return decoder.decode(record.value);
}
