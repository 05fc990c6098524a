import { RecordTemplate } from "./record-template.js";
import type { SinkRecord } from "./records.js";

/** A name a sink derives from each record (a topic, a routing key): given the record and its index. */
export type RecordNameFunction = (record: SinkRecord, index: number) => string;

/**
 * Turns a sink's setting that is either a template (`"sensors/{key}/out"`, parsed once) or a
 * function into the function it calls per record.
 *
 * @example
 * const topicOf = templateFunction("sensors/{key}/out");
 * topicOf(record, 0); // "sensors/42/out"
 */
export function templateFunction(setting: string | RecordNameFunction): RecordNameFunction {
  if (typeof setting === "function") return setting;
  const template = RecordTemplate.parse(setting);
  return (record) => template.render(record);
}
