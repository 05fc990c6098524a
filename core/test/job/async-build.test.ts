// A job whose build function returns a Promise is refused when its context is made: streams it
// would make after an await would come too late for the context.
import { createJobContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";

describe("a job whose build function is async", () => {
  it("is refused when its context is made, saying to build the streams synchronously", async () => {
    await expect(
      createJobContext(
        { module: new URL("./jobs/async-build.ts", import.meta.url) },
        { batchInterval: 1000, clock: new ManualClock(0) },
      ),
    ).rejects.toMatchObject({
      code: "SLUICE_INVALID_ARGUMENT",
      message: expect.stringMatching(/build function returned a Promise .*synchronously/),
    });
  });
});
