// A logger the application passes in is redacted on the way in: Sluice's own logger redacts its
// lines as pino writes them, but an application's logger has its own destination and hooks.
import { Writable } from "node:stream";
import { pino } from "pino";
import { createConnectorRegistry } from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { redactingLogger } from "../../src/util/redacting-logger.js";
import { registerSecretValue } from "../../src/util/secret-values.js";

const SECRET = "tz8-registered-secret-value-q1";
registerSecretValue(SECRET);

function capture(level = "debug"): { logger: pino.Logger; lines: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback): void {
      lines.push(String(chunk));
      callback();
    },
  });
  return { logger: pino({ level }, sink), lines: () => lines.join("") };
}

describe("redactingLogger", () => {
  it("redacts messages, fields, errors with their causes, and children's bindings", () => {
    const { logger, lines } = capture();
    const redacting = redactingLogger(logger);
    redacting.warn(`connect amqp://app:${SECRET}@broker:5672 failed`);
    redacting.error(
      {
        err: new Error(`auth with ${SECRET} refused`, { cause: new Error(`token ${SECRET}`) }),
        nested: { list: [`x ${SECRET}`], count: 3 },
      },
      "write failed",
    );
    redacting.child({ connector: `sink ${SECRET}` }).info("child line");
    const text = lines();
    expect(text).not.toContain(SECRET);
    expect(text).toContain("amqp://[redacted]@broker:5672");
    expect(text.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(6);
    // Still an error to pino's serializer: its type and stack are written.
    expect(text).toContain('"type":"Error"');
    expect(text).toContain('"count":3');
    expect(text).toContain("child line");
  });

  it("does nothing below the logger's level, and passes other members through", () => {
    const { logger, lines } = capture("warn");
    const redacting = redactingLogger(logger);
    redacting.debug(`quiet ${SECRET}`);
    expect(lines()).toBe("");
    expect(redacting.level).toBe("warn");
    expect(redacting.isLevelEnabled("error")).toBe(true);
  });

  it("is what a connector registry logs through when given the application's logger", () => {
    const { logger, lines } = capture();
    const registry = createConnectorRegistry({ logger });
    registry.logger.child({ connector: "x" }).warn(`password ${SECRET} rejected`);
    expect(lines()).toContain("password [redacted] rejected");
  });
});
