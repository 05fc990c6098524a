import { REDACTED } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { deadLetterOf, recordFailure } from "../../src/recovery/dead-letters.js";

const record = {
  value: new TextEncoder().encode("a record payload"),
  headers: {},
  timestampMs: 0,
  partition: "p0",
  offset: "7",
};

describe("dead letters", () => {
  it("redact the error's message and keep the record as it is", () => {
    const error = new Error("publish to amqps://app:dl-secret-3a9f@broker:5671 was refused");
    const letter = deadLetterOf(record, error, "sink:rabbitmq#1", 1000);
    expect(letter.error).toBe(`publish to amqps://${REDACTED}@broker:5671 was refused`);
    expect(letter.record).toBe("a record payload");
    const failure = recordFailure(record, error, "map", 1000, 3);
    expect(failure.message).not.toContain("dl-secret-3a9f");
    expect(failure.message).toContain("a record payload");
  });
});
