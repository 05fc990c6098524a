import {
  ConfigValidationError,
  formatConfig,
  REDACTED,
  redactConfig,
  SluiceError,
  secret,
  validateConfig,
} from "sluice/connector";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const schema = z.strictObject({
  url: z.string().describe("the broker URL, e.g. amqp://host:5672"),
  user: z.string(),
  password: secret(z.string().min(8)).optional(),
  tls: z
    .strictObject({
      ca: z.string(),
      key: secret(z.string()).describe("the client's private key, PEM"),
    })
    .optional(),
  prefetch: z.int().min(1).default(10).describe("unacknowledged messages the broker may send"),
  mode: z.enum(["fast", "safe"]).default("safe"),
});

function invalid(input: unknown): ConfigValidationError {
  try {
    validateConfig(schema, input, 'source "amqp"');
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw error;
  }
  throw new Error("the config was accepted");
}

describe("config validation", () => {
  it("returns the parsed config with defaults", () => {
    const config = validateConfig(schema, { url: "amqp://h", user: "ada" }, 'source "amqp"');
    expect(config).toEqual({ url: "amqp://h", user: "ada", prefetch: 10, mode: "safe" });
  });

  it("reports every invalid field at once, with its path", () => {
    const error = invalid({ user: 7, prefetch: 0, mode: "turbo", tls: { ca: 1, key: 2 } });
    expect(error).toBeInstanceOf(SluiceError);
    expect(error.code).toBe("SLUICE_INVALID_CONFIG");
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(
      ["mode", "prefetch", "tls.ca", "tls.key", "url", "user"].sort(),
    );
    expect(error.message).toContain('Invalid config for source "amqp" (6 problems)');
    for (const path of ["url", "user", "prefetch", "mode", "tls.ca", "tls.key"]) {
      expect(error.message).toContain(`  - ${path}: `);
    }
  });

  it("hints with the field's description and says when a field is missing", () => {
    const error = invalid({ user: "ada", prefetch: 0 });
    const url = error.issues.find((issue) => issue.path === "url");
    expect(url?.hint).toBe("This field is required: the broker URL, e.g. amqp://host:5672.");
    const prefetch = error.issues.find((issue) => issue.path === "prefetch");
    expect(prefetch?.message).toContain("Got 0.");
    expect(prefetch?.hint).toBe("Unacknowledged messages the broker may send.");
  });

  it("names unknown fields and suggests the one meant", () => {
    const error = invalid({ url: "amqp://h", user: "ada", prefech: 5, colour: "red" });
    const typo = error.issues.find((issue) => issue.path === "prefech");
    expect(typo?.message).toBe("Unknown field.");
    expect(typo?.hint).toBe('Did you mean "prefetch"?');
    const unknown = error.issues.find((issue) => issue.path === "colour");
    expect(unknown?.hint).toContain("known fields here: url, user, password, tls, prefetch, mode");
  });

  it("never prints a secret, in the message, the issues or the config shown", () => {
    const error = invalid({
      url: "amqp://ada:hunter2-in-url@broker:5672",
      user: "ada",
      password: "short-1", // too short: invalid, and still secret
      tls: { ca: "ca-pem", key: "PRIVATE-KEY-PEM" },
      apiToken: "tok-123456",
    });
    const shown = `${error.message}\n${JSON.stringify(error.issues)}\n${String(error)}`;
    for (const secretValue of ["short-1", "PRIVATE-KEY-PEM", "hunter2-in-url", "tok-123456"]) {
      expect(shown).not.toContain(secretValue);
    }
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(["apiToken", "password"]);
    expect(error.message).toContain(`"password":"${REDACTED}"`);
    expect(error.message).toContain(`amqp://${REDACTED}@broker:5672`);
  });
});

describe("redactConfig", () => {
  it("replaces marked secrets at any depth, also behind optional/default wrappers", () => {
    const config = validateConfig(
      schema,
      { url: "amqp://h", user: "ada", password: "correct horse", tls: { ca: "ca", key: "k" } },
      "test",
    );
    expect(redactConfig(schema, config)).toEqual({
      url: "amqp://h",
      user: "ada",
      password: REDACTED,
      tls: { ca: "ca", key: REDACTED },
      prefetch: 10,
      mode: "safe",
    });
  });

  it("keeps the mark on schemas derived after secret()", () => {
    const derived = z.object({
      pin: secret(z.string()).min(4).describe("the PIN").default("0000"),
    });
    expect(redactConfig(derived, { pin: "1234" })).toEqual({ pin: REDACTED });
  });

  it("redacts secrets inside arrays, records and unions", () => {
    const nested = z.object({
      brokers: z.array(z.object({ host: z.string(), sasl: secret(z.string()) })),
      headers: z.record(z.string(), secret(z.string())),
      auth: z.union([
        z.object({ kind: z.literal("basic"), pass: secret(z.string()) }),
        z.object({ kind: z.literal("none") }),
      ]),
    });
    const shown = formatConfig(nested, {
      brokers: [{ host: "a", sasl: "s1" }],
      headers: { authorisation: "s2" },
      auth: { kind: "basic", pass: "s3" },
    });
    expect(shown).toBe(
      `{"brokers":[{"host":"a","sasl":"${REDACTED}"}],"headers":{"authorisation":"${REDACTED}"},"auth":{"kind":"basic","pass":"${REDACTED}"}}`,
    );
  });

  it("redacts credential-named fields and URL user-info even without a schema", () => {
    expect(
      redactConfig(undefined, {
        client_secret: "x",
        authToken: "y",
        dsn: "postgres://u:p4ss@db/app",
        tokenizer: "keep",
      }),
    ).toEqual({
      client_secret: REDACTED,
      authToken: REDACTED,
      dsn: `postgres://${REDACTED}@db/app`,
      tokenizer: "keep",
    });
  });

  it("copies without touching the original", () => {
    const original = { user: "ada", password: "pw" };
    redactConfig(schema, original);
    expect(original.password).toBe("pw");
  });
});
