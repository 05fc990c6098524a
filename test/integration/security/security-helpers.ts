// Shared bits of the connectors' security suites: the test certificates of scripts/services/
// (.services/tls), a TLS server presenting a certificate for another host name, a logger whose
// lines the tests read, and the check of a refusal (typed, naming what to fix, no password).
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import pino, { type Logger } from "pino";
import { hasErrorCode } from "sluice";
import { expect } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TLS_DIR = join(process.env.SLUICE_SERVICES_HOME ?? join(ROOT, ".services"), "tls");

/** Per-test timeout: generous, since a loaded machine is slow; nothing here is timed. */
export const SECURITY_TIMEOUT_MS = 120_000;

/** PEM text of a file of the test certificates, e.g. `pem("ca.pem")`. */
export function pem(name: string): string {
  try {
    return readFileSync(join(TLS_DIR, name), "utf8");
  } catch (error) {
    throw new Error(
      `no test certificate ${name} in ${TLS_DIR}; make them with scripts/services/start (or scripts/services/certs)`,
      { cause: error },
    );
  }
}

/** The users of the TLS listeners (scripts/services/README.md, "Users"). */
export const USERS = {
  sluice: { username: "sluice", password: "sluice-secret" },
  limited: { username: "limited", password: "limited-secret" },
} as const;

/** A password no server knows; the tests check it never shows in an error. */
export const WRONG_PASSWORD = "not-the-password-7f3a9c";

/**
 * A TLS server on 127.0.0.1 presenting `wrong-host.pem`: signed by the test CA but for
 * `wrong-host.sluice.test` only, so a client trusting the test CA fails on the host name
 * alone. It never answers a protocol; the handshake is all the tests need.
 */
export async function wrongHostServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = tls.createServer({ cert: pem("wrong-host.pem"), key: pem("wrong-host.key") });
  server.on("tlsClientError", () => undefined);
  server.on("secureConnection", (socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every line any capturing logger of this test file logged, as written. */
const loggedText: string[] = [];

/** A pino logger at debug level whose JSON lines are kept in `lines`. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() === "") continue;
        loggedText.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

/**
 * The lines logged so far (at debug level, by the connectors, the registry and the client
 * libraries through them) that hold one of `secrets`; a suite checks this is empty at its end.
 */
export function loggedSecrets(secrets: readonly string[]): string[] {
  return loggedText.filter((line) => secrets.some((secret) => line.includes(secret)));
}

/** The passwords of the test users and the wrong one the suites try. */
export const ALL_PASSWORDS = [USERS.sluice.password, USERS.limited.password, WRONG_PASSWORD];

/** The warnings of `lines` about turned-off certificate checks. */
export function unverifiedWarnings(lines: readonly Record<string, unknown>[]): unknown[] {
  return lines.filter(
    (line) => line.level === 40 && String(line.msg).includes("tls.rejectUnauthorized is false"),
  );
}

/** Every message of an error and the errors it wraps, one per line. */
export function messagesOf(error: unknown): string {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const visit = (current: unknown, depth: number): void => {
    if (typeof current !== "object" || current === null || seen.has(current) || depth > 8) return;
    seen.add(current);
    const { message, cause, errors, innerErrors, originalError } = current as Record<
      string,
      unknown
    >;
    if (typeof message === "string") out.push(message);
    visit(cause, depth + 1);
    visit(originalError, depth + 1);
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1);
    if (typeof innerErrors === "object" && innerErrors !== null) {
      for (const inner of Object.values(innerErrors)) visit(inner, depth + 1);
    }
  };
  visit(error, 0);
  return out.join("\n");
}

/**
 * Awaits `attempt`, which must reject with `SLUICE_CONNECTOR_REFUSED` (never retried) whose
 * message holds each of `mentions` and in none of whose renderings (its chain's messages, the
 * error inspected to any depth, a log line's `err`) any of `secrets` shows.
 * Resolves with the message.
 */
export async function expectRefused(
  attempt: Promise<unknown>,
  mentions: readonly string[],
  secrets: readonly string[] = [],
): Promise<string> {
  const error = await attempt.then(
    () => {
      throw new Error("expected a refusal, but it succeeded");
    },
    (failure: unknown) => failure,
  );
  const message = error instanceof Error ? error.message : String(error);
  expect(hasErrorCode(error, "SLUICE_CONNECTOR_REFUSED"), message).toBe(true);
  for (const mention of mentions) expect(message).toContain(mention);
  expectNoSecretShown(error, secrets);
  return message;
}

/** No rendering of `error` (see `renderings`) holds any of `secrets`. */
export function expectNoSecretShown(error: unknown, secrets: readonly string[]): void {
  for (const [shown, text] of Object.entries(renderings(error))) {
    for (const secret of secrets) {
      expect({ shown, secret, leaks: text.includes(secret) }).toEqual({
        shown,
        secret,
        leaks: false,
      });
    }
  }
}

/**
 * Awaits `attempt`, which must be refused because the server's certificate is not signed by the
 * CA in `tls.ca`: the message says so, names `server` (host:port), and never suggests that the
 * server is down or unreachable. Resolves with the message.
 */
export async function expectUntrustedServer(
  attempt: Promise<unknown>,
  server: string,
): Promise<string> {
  const message = await expectRefused(attempt, [
    "the server's certificate is not signed by",
    '"tls.ca"',
    server,
  ]);
  expect(message).not.toMatch(/running|cannot reach|unreachable/i);
  return message;
}

/**
 * Every way an error reaches a person: the messages of its chain, `String()`, what
 * `console.error` prints (to any depth, non-enumerable properties too: whatever the error and
 * its causes refer to, such as a client or its options) and a pino line's `err`.
 */
export function renderings(error: unknown): Record<string, string> {
  return {
    messages: messagesOf(error),
    string: String(error),
    inspected: inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    logged: JSON.stringify(pino.stdSerializers.err(error as Error)),
  };
}
