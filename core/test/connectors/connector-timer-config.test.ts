// Connector configs' millisecond fields become timers; a value a timer cannot hold (above
// 2^31 - 1 ms) fired after 1 ms with a TimeoutOverflowWarning, so validation refuses it.
import { ConfigValidationError, validateConfig } from "sluice";
import { createConnectorRegistry } from "sluice/advanced";
import { timerMs } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";

const registry = createConnectorRegistry({ logger: new LogCapture().logger });
afterEach(async () => {
  await registry.dispose();
});

describe("timer millisecond fields", () => {
  it("the socket source refuses a connectTimeoutMs a timer cannot hold, naming field and range", () => {
    const create = (connectTimeoutMs: number) =>
      registry.createSource("socket", { host: "127.0.0.1", port: 9999, connectTimeoutMs });
    expect(() => create(2_147_483_647)).not.toThrow();
    expect(() => create(2_147_483_648)).toThrowError(
      /connectTimeoutMs: .*at most 2147483647 ms \(about 24\.8 days, the longest a timer can wait\)\. Got 2147483648/,
    );
  });

  it("timerMs keeps its minimum and refuses what is not a whole number", () => {
    const schema = z.strictObject({ waitMs: timerMs(0) });
    expect(validateConfig(schema, { waitMs: 0 }, "test")).toEqual({ waitMs: 0 });
    for (const waitMs of [-1, 1.5, 1e300, Number.POSITIVE_INFINITY]) {
      expect(() => validateConfig(schema, { waitMs }, "test")).toThrowError(ConfigValidationError);
    }
  });
});
