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
 * so names sort in time order and a replayed batch lands on the same name; with the copy of the
 * job that wrote it between them when several copies write the same batches (cluster mode:
 * `WriteBatchContext.writer`).
 *
 * @example
 * batchFileName("part", 1_700_000_000_000, 3, "jsonl"); // "part-0001700000000000-00003.jsonl"
 * batchFileName("part", 1_700_000_000_000, 3, "jsonl", "keyed-2"); // "part-0001700000000000-keyed-2-00003.jsonl"
 */
export function batchFileName(
  prefix: string,
  batchTime: number,
  partition: number,
  extension: string,
  writer?: string,
): string {
  const time = String(batchTime).padStart(16, "0");
  const by = writer === undefined ? "" : `${writer}-`;
  return `${prefix}-${time}-${by}${String(partition).padStart(5, "0")}.${extension}`;
}

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/**
 * The hidden name the file sink writes a batch file under before renaming it to `fileName`:
 * `.<fileName>.<unique>.tmp`, which the file source never reads (see `isDataFileName`).
 *
 * @example
 * batchTemporaryFileName("part-0001700000000000-00003.jsonl", randomUUID());
 * // ".part-0001700000000000-00003.jsonl.1b4e28ba-2fa1-11d2-883f-0016d3cca427.tmp"
 */
export function batchTemporaryFileName(fileName: string, unique: string): string {
  return `.${fileName}.${unique}.tmp`;
}

/**
 * True only for a temporary file the file sink with this `prefix` writes as `writer` (none: the
 * names without one) — `batchFileName` made hidden by `batchTemporaryFileName` with a UUID — in
 * either format. Anchored at both ends, so a sink with another prefix (even one that starts
 * with this prefix), another writer, a finished batch file and anyone else's files never match.
 *
 * @example
 * isBatchTemporaryFileName(".part-0001700000000000-00003.txt.1b4e28ba-2fa1-11d2-883f-0016d3cca427.tmp", "part"); // true
 * isBatchTemporaryFileName(".part-0001700000000000-00003.txt.1b4e28ba-2fa1-11d2-883f-0016d3cca427.tmp", "pa"); // false
 * isBatchTemporaryFileName(".part-0001700000000000-keyed-2-00003.txt.1b4e28ba-2fa1-11d2-883f-0016d3cca427.tmp", "part", "keyed-2"); // true
 */
export function isBatchTemporaryFileName(name: string, prefix: string, writer?: string): boolean {
  const by = writer === undefined ? "" : `${escapeRegExp(writer)}-`;
  return new RegExp(
    `^\\.${escapeRegExp(prefix)}-\\d{16,}-${by}\\d{5,}\\.(?:txt|jsonl)\\.${UUID}\\.tmp$`,
  ).test(name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
}
