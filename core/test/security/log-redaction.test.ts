// The redaction every line of Sluice's logger goes through as it is written (`sluiceLogger`'s
// stream hook): secrets in any string of the line go, and the line stays JSON.
import { pino } from "pino";
import { REDACTED, registerSecretValue } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { redactLogLine } from "../../src/util/logger.js";

const URL_PASSWORD = "log-url-pw-6a0f";
const REGISTERED = 'log-registered "value" 2e8b';
const KEY_BODY = "MIIEvQIBADANlogKeyBody4f7a";

registerSecretValue(REGISTERED);

/** The line pino writes for one call, through `redactLogLine` as `sluiceLogger` does. */
function logged(write: (logger: pino.Logger) => void): string {
  let line = "";
  const logger = pino(
    { level: "debug", hooks: { streamWrite: redactLogLine } },
    { write: (text: string) => (line += text) },
  );
  write(logger.child({ connector: "source:rabbitmq#0" }));
  return line;
}

function expectClean(line: string): void {
  // Still one JSON object per line.
  expect(() => JSON.parse(line)).not.toThrow();
  expect(line.endsWith("\n")).toBe(true);
  for (const secret of [URL_PASSWORD, REGISTERED, JSON.stringify(REGISTERED), KEY_BODY]) {
    expect(line).not.toContain(secret);
  }
}

describe("log lines", () => {
  it("a message with a URL's user-info and a registered value", () => {
    const line = logged((logger) =>
      logger.info(`connect amqp://app:${URL_PASSWORD}@broker:5672 with ${REGISTERED}`),
    );
    expectClean(line);
    expect(JSON.parse(line).msg).toBe(`connect amqp://${REDACTED}@broker:5672 with ${REDACTED}`);
  });

  it("fields, nested ones too", () => {
    const line = logged((logger) =>
      logger.warn(
        { url: `mqtt://app:${URL_PASSWORD}@broker`, config: { token: REGISTERED } },
        "reconnecting",
      ),
    );
    expectClean(line);
    expect(JSON.parse(line)).toMatchObject({
      url: `mqtt://${REDACTED}@broker`,
      config: { token: REDACTED },
      msg: "reconnecting",
    });
  });

  it("an error's message and stack", () => {
    const error = new Error(`login to amqp://app:${URL_PASSWORD}@broker refused (${REGISTERED})`);
    for (const line of [
      logged((logger) => logger.error(error)),
      logged((logger) => logger.error({ err: error }, "connect failed")),
    ]) {
      expectClean(line);
      const parsed = JSON.parse(line) as { err: { message: string; stack: string } };
      expect(parsed.err.message).toContain(`amqp://${REDACTED}@broker`);
      expect(parsed.err.stack).toContain(`amqp://${REDACTED}@broker`);
    }
  });

  it("a PEM block cut off inside one string leaves the rest of the line intact", () => {
    const line = logged((logger) =>
      logger.info({ key: `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}`, after: "kept" }, "bad key"),
    );
    expectClean(line);
    expect(JSON.parse(line)).toMatchObject({ after: "kept", msg: "bad key" });
  });
});
