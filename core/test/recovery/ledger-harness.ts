// A source ledger as the recovery tests set one up: a fresh input (no checkpoint recovered),
// silent, failing on any replay problem; a test overrides what it is about.
import { pino } from "pino";
import { SourceLedger, type SourceLedgerOptions } from "../../src/recovery/source-ledger.js";

/**
 * A `SourceLedger` with the tests' defaults and `options` over them.
 *
 * @example
 * const ledger = testLedger({ name: "queue", wal: new WriteAheadLog(folder), recordId });
 */
export function testLedger(
  options: Pick<SourceLedgerOptions, "name" | "wal"> & Partial<SourceLedgerOptions>,
): SourceLedger {
  return new SourceLedger({
    recovered: undefined,
    replays: new Map(),
    firstStartedAt: 0,
    replayTimeoutMs: 1_000,
    logger: pino({ level: "silent" }),
    onReplayProblem: (problem) => {
      throw new Error(problem);
    },
    recordId: undefined,
    ...options,
  });
}
