const TEMPORARY_SUFFIXES = [".tmp", ".temp", ".part", ".partial", ".crdownload", ".swp", "~"];

/**
 * True for a name the file source reads: not hidden (`.name`), not a Hadoop-style marker
 * (`_name`), not a temporary file still being written (`*.tmp`, `*.part`, `*~`, ...). Writers
 * write under such a name and rename the finished file into the folder (the atomic-move rule).
 *
 * @example
 * isDataFileName("orders-1.jsonl"); // true
 * isDataFileName(".orders-1.jsonl.tmp"); // false
 */
export function isDataFileName(name: string): boolean {
  if (name.startsWith(".") || name.startsWith("_")) return false;
  const lower = name.toLowerCase();
  return !TEMPORARY_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}

/**
 * The name the file sink gives one partition of one batch: fixed-width batch time and partition,
 * so names sort in time order and a replayed batch lands on the same name.
 *
 * @example
 * batchFileName("part", 1_700_000_000_000, 3, "jsonl"); // "part-0001700000000000-00003.jsonl"
 */
export function batchFileName(
  prefix: string,
  batchTime: number,
  partition: number,
  extension: string,
): string {
  const time = String(batchTime).padStart(16, "0");
  return `${prefix}-${time}-${String(partition).padStart(5, "0")}.${extension}`;
}
