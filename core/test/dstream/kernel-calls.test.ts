// Columnar stages run their kernel calls on the driver, as many at once as the job has cores.
import { describe, expect, it } from "vitest";
import { kernelCalls } from "../../src/dstream/kernel-calls.js";
import type { StreamScope } from "../../src/dstream/stream-scope.js";

function scopeWith(executors: number | undefined): StreamScope {
  const execution = executors === undefined ? undefined : { executors };
  return { execution: () => execution } as unknown as StreamScope;
}

/** Calls that each wait for a release, recording how many were in flight at most. */
function gatedCalls() {
  let inFlight = 0;
  let most = 0;
  const waiting: (() => void)[] = [];
  const call = async (item: number): Promise<number> => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise<void>((resolve) => waiting.push(resolve));
    inFlight--;
    return item * 10;
  };
  return {
    call,
    get most() {
      return most;
    },
    /** Releases every waiting call, as often as it takes for `done` to settle. */
    async drain<T>(done: Promise<T>): Promise<T> {
      let settled = false;
      void done.then(() => {
        settled = true;
      });
      while (!settled) {
        for (const release of waiting.splice(0)) release();
        await new Promise((resolve) => setImmediate(resolve));
      }
      return done;
    },
  };
}

describe("kernelCalls", () => {
  it.each([
    [undefined, 1],
    [1, 1],
    [2, 2],
    [3, 3],
  ])(
    "with %s executor threads runs at most %i calls at once, results in order",
    async (executors, limit) => {
      const gate = gatedCalls();
      const items = [1, 2, 3, 4, 5, 6, 7];
      const results = await gate.drain(kernelCalls(scopeWith(executors), items, gate.call));
      expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
      expect(gate.most).toBe(limit);
    },
  );
});
