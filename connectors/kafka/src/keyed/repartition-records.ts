import type { IHeaders, KafkaMessage, Message } from "kafkajs";
import { SluiceError } from "sluice/connector";
import type { ExchangeRecord } from "./batch-assembler.js";

const KIND = "sluice-kind";
const TIME = "sluice-time";
const INPUT = "sluice-input";

/**
 * The repartition record carrying a map side's chunk of batch `time` for one keyed partition.
 *
 * @example
 * transaction.send({ topic, messages: [chunkMessage(3, 1000, bytes)] });
 */
export function chunkMessage(partition: number, time: number, bytes: Uint8Array): Message {
  return {
    partition,
    value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    headers: { [KIND]: "chunk", [TIME]: String(time) },
  };
}

/**
 * The repartition record saying that input partition `input` has given everything it gives up
 * to batch `time` (written into every keyed partition with each batch).
 *
 * @example
 * markerMessage(3, 1000, "orders-0");
 */
export function markerMessage(partition: number, time: number, input: string): Message {
  return {
    partition,
    value: null,
    headers: { [KIND]: "marker", [TIME]: String(time), [INPUT]: input },
  };
}

/**
 * Reads a repartition record back; a record that is neither chunk nor marker is refused with
 * `SLUICE_INVALID_RECORD` naming where it is.
 *
 * @example
 * const record = parseRepartitionRecord(message, "wc.sluice-repartition-3");
 */
export function parseRepartitionRecord(message: KafkaMessage, where: string): ExchangeRecord {
  const offset = BigInt(message.offset);
  const kind = header(message.headers, KIND);
  const time = Number(header(message.headers, TIME));
  if (!Number.isFinite(time)) throw invalid(where, offset, "its sluice-time header is missing");
  if (kind === "chunk") {
    return { kind, offset, time, bytes: ownBytes(message.value) };
  }
  if (kind === "marker") {
    const input = header(message.headers, INPUT);
    if (input === undefined) throw invalid(where, offset, "its sluice-input header is missing");
    return { kind, offset, time, input };
  }
  throw invalid(where, offset, `its sluice-kind header is ${JSON.stringify(kind)}`);
}

// A chunk is held from its fetch until its batch's markers have all arrived (the task's
// buffer, then the assembler's pending chunks: as long as the slowest input takes), and kafkajs
// decodes a value as a view into the whole fetch response (up to `maxBytes`, megabytes). So the
// chunk's bytes are copied out once, into memory of their own (not a slice of Node's shared
// pool, which would keep an 8 KiB slab alive), and keep alive nothing but themselves. One copy
// per chunk, the whole chunk: its pairs are decoded from it only when its batch is handed out.
function ownBytes(value: Buffer | null): Uint8Array {
  const length = value?.byteLength ?? 0;
  const bytes = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
  if (value !== null) bytes.set(value);
  return bytes;
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

function invalid(where: string, offset: bigint, why: string): SluiceError {
  return new SluiceError(
    "SLUICE_INVALID_RECORD",
    `The record at offset ${offset} of ${where} is not a Sluice exchange record: ${why}. Only Sluice writes to its repartition topics; delete the topic to start the job's keyed state over.`,
  );
}
