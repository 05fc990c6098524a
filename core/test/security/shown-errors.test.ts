// Error text that reaches a person without passing through the CLI's error line: the progress
// reporter's notes (status line, plain lines, JSON), and what the web UI keeps for its pages and
// /api (a source's last error, an output operation's failure reason).
import { REDACTED, registerSecretValue } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { type ProgressMode, ProgressReporter } from "../../src/cli/progress-reporter.js";

const URL_PASSWORD = "shown-url-pw-5d1e";
const REGISTERED = "shown-registered-value-91c3";
const FAILURE = `connect amqp://app:${URL_PASSWORD}@broker:5672 failed (token ${REGISTERED})`;

registerSecretValue(REGISTERED);

describe("the progress reporter's notes", () => {
  for (const mode of ["status-line", "lines", "json"] as const satisfies ProgressMode[]) {
    it(`redact a source's error in ${mode} mode`, () => {
      let printed = "";
      const reporter = new ProgressReporter(mode, 1000, { write: (text) => (printed += text) });
      reporter.note(`source source:rabbitmq#0: ${FAILURE}`);
      expect(printed).toContain(`amqp://${REDACTED}@broker:5672`);
      expect(printed).toContain(`token ${REDACTED}`);
      expect(printed).not.toContain(URL_PASSWORD);
      expect(printed).not.toContain(REGISTERED);
    });
  }
});
