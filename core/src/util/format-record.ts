/**
 * The text of one record as `print` and `saveAsTextFiles` write it: strings as they are,
 * other primitives with `String`, objects and arrays as JSON (bigints inside as digits).
 *
 * @example
 * formatRecord(["a", 1]); // '["a",1]'
 */
export function formatRecord(record: unknown): string {
  if (typeof record === "string") return record;
  if (typeof record !== "object" || record === null) return String(record);
  return (
    JSON.stringify(record, (_name, value: unknown) =>
      typeof value === "bigint" ? value.toString() : value,
    ) ?? String(record)
  );
}
