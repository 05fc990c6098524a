import { SluiceError } from "../errors/sluice-error.js";
import { checkCsvArguments } from "../kernels/js-parsers.js";

/**
 * A record the byte parsers read: a source record (its `value`), bytes, or a string (its UTF-8
 * bytes).
 */
export type TextRecord = string | Uint8Array | { readonly value: Uint8Array };

/** What a byte parser extracts from every record; each kind is one kernel. */
export type ByteParser =
  | { readonly kind: "lines" }
  | { readonly kind: "words" }
  | { readonly kind: "csvColumn"; readonly index: number; readonly delimiter: string }
  | { readonly kind: "jsonStringField"; readonly field: string }
  | { readonly kind: "jsonNumberField"; readonly field: string };

/**
 * Checks a parser's arguments when the operation is added, so a bad one fails the job's
 * construction rather than its first batch.
 *
 * @example
 * checkByteParser({ kind: "csvColumn", index: -1, delimiter: "," }); // throws SLUICE_INVALID_ARGUMENT
 */
export function checkByteParser(parser: ByteParser): void {
  if (parser.kind === "csvColumn") {
    try {
      checkCsvArguments(parser.index, parser.delimiter);
    } catch (error) {
      const why = error instanceof Error ? error.message.replace(/^invalid argument /, "") : "";
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `csvColumn: ${why} (got index ${String(parser.index)}, delimiter ${JSON.stringify(parser.delimiter)})`,
      );
    }
  }
  if (parser.kind === "jsonStringField" || parser.kind === "jsonNumberField") {
    if (typeof parser.field !== "string") {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `${parser.kind}: expected the member name as a string, got ${String(parser.field)}`,
      );
    }
  }
}
