import { ExecutorPool } from "sluice/advanced";
import { afterAll, beforeAll, expect } from "vitest";

/** Every master the operation suite runs under; results must not depend on it. */
export const MASTERS = ["local[1]", "local[2]", "local[4]"] as const;

/** One of `MASTERS`. */
export type Master = (typeof MASTERS)[number];

/** What a test spreads into `runBatches`' options to run under a master. */
export interface MasterOptions {
  readonly master: string;
  readonly executorPool?: ExecutorPool;
}

/**
 * Registers, in the enclosing `describe`, one executor pool shared by its tests (started on the
 * first job, closed after the last test, which checks tasks did run on it), and returns the
 * options that run a test on it.
 */
export function onMaster(master: Master): () => MasterOptions {
  const threads = Number(/\d+/.exec(master)?.[0] ?? "1");
  let pool: ExecutorPool | undefined;
  if (threads > 1) {
    beforeAll(() => {
      pool = new ExecutorPool({ threads });
    });
    afterAll(async () => {
      // The tests really ran on the executors, not on the main thread.
      expect(pool?.completedTasks).toBeGreaterThan(0);
      await pool?.close();
      expect(pool?.threadIds()).toEqual([]);
    });
  }
  return () => (pool === undefined ? { master } : { master, executorPool: pool });
}
