// The file source's pollIntervalMs takes a duration string as batchInterval and windows do
// ("1s", "250ms"), or a number of milliseconds; a bad value names the field and an example.
import { ConfigValidationError, validateConfig } from "sluice";
import { createConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { fileSourceConfig } from "../../src/connectors/file/file-source-config.js";

const pollIntervalOf = (pollIntervalMs: unknown): number =>
  validateConfig(fileSourceConfig, { directory: "in", pollIntervalMs }, 'source "file"')
    .pollIntervalMs;

function problemWith(pollIntervalMs: unknown): string {
  try {
    validateConfig(fileSourceConfig, { directory: "in", pollIntervalMs }, 'source "file"');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    const issues = (error as ConfigValidationError).issues;
    expect(issues.map((issue) => issue.path)).toEqual(["pollIntervalMs"]);
    return issues[0]?.message ?? "";
  }
  throw new Error(`pollIntervalMs ${JSON.stringify(pollIntervalMs)} was accepted`);
}

describe("file source pollIntervalMs", () => {
  it("takes a duration string or a number of milliseconds, and becomes milliseconds", () => {
    expect(pollIntervalOf("1s")).toBe(1_000);
    expect(pollIntervalOf("250ms")).toBe(250);
    expect(pollIntervalOf("1.5s")).toBe(1_500);
    expect(pollIntervalOf("10m")).toBe(600_000);
    expect(pollIntervalOf(20)).toBe(20);
    expect(validateConfig(fileSourceConfig, { directory: "in" }, "file").pollIntervalMs).toBe(
      1_000,
    );
  });

  it("is accepted as a string by the registry's file source", async () => {
    const registry = createConnectorRegistry({ logger: new LogCapture().logger });
    try {
      expect(() =>
        registry.createSource("file", { directory: "in", pollIntervalMs: "2s" }),
      ).not.toThrow();
    } finally {
      await registry.dispose();
    }
  });

  it("refuses an unreadable string with parseDuration's advice", () => {
    expect(problemWith("1 s")).toMatch(/^Cannot read duration "1 s" \(did you mean "1s"\?\)/);
    expect(problemWith("500")).toContain('did you mean "500ms"?');
    expect(problemWith("soon")).toContain('such as "500ms", "2s"');
  });

  it("refuses what is out of range or not whole milliseconds, naming the range and an example", () => {
    for (const value of [5, 600_001, 1.5, "5ms", "11m", "0.0015s"]) {
      expect(problemWith(value)).toContain(
        'Must be whole milliseconds from 10 to 600000, or a duration such as "1s"',
      );
    }
    expect(problemWith("11m")).toContain("(it is 660000 ms)");
  });

  it("refuses what is neither a number nor a string", () => {
    for (const value of [true, null, {}]) {
      expect(problemWith(value)).toContain(
        'Expected whole milliseconds from 10 to 600000, or a duration such as "1s"',
      );
    }
  });
});
