import { abortable, closeQuietly, withTimeout } from "sluice/connector";
import { afterEach, describe, expect, it, vi } from "vitest";

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

describe("async helpers", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("abortable resolves like the promise, or rejects with the signal's reason", async () => {
    const controller = new AbortController();
    await expect(abortable(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    const pending = abortable(never<number>(), controller.signal);
    controller.abort(new Error("stopped"));
    await expect(pending).rejects.toThrow("stopped");
    await expect(abortable(Promise.resolve(1), controller.signal)).rejects.toThrow("stopped");
  });

  it("withTimeout rejects with the given error once the time has passed", async () => {
    vi.useFakeTimers();
    await expect(withTimeout(Promise.resolve("ok"), 100, () => new Error("late"))).resolves.toBe(
      "ok",
    );
    const pending = withTimeout(never<string>(), 100, () => new Error("late"));
    const settled = expect(pending).rejects.toThrow("late");
    await vi.advanceTimersByTimeAsync(100);
    await settled;
  });

  it("closeQuietly ignores a failing or hanging close", async () => {
    vi.useFakeTimers();
    await expect(closeQuietly(() => Promise.reject(new Error("gone")), 100)).resolves.toBe(
      undefined,
    );
    let finished = false;
    const hanging = closeQuietly(never, 100).then(() => {
      finished = true;
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(finished).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await hanging;
    expect(finished).toBe(true);
  });
});
