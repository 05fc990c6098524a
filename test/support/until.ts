// Waiting on a condition the test cannot be told about by an event (a state another part of the
// program reaches), with a deadline that names what never happened.

/**
 * Waits until `condition()` holds, checking every 50 ms; fails naming `what` after `ms`.
 *
 * @example
 * await until(() => faultsFired() >= 2, 60_000, "two produce requests cut off");
 */
export async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
