import {
  formatConfig,
  looksLikeMisspeltCredentialName,
  REDACTED,
  redactConfig,
  redactText,
  registerSecretValue,
  secret,
  tlsConfig,
  validateConfig,
} from "sluice/connector";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7pemBodySecret";
const PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----\n`;

// The shape of the broker connectors' configs: a URL, SASL and TLS with secret fields.
const schema = z.strictObject({
  url: z.string().optional(),
  sasl: z
    .strictObject({
      mechanism: z.enum(["plain", "scram-sha-512"]),
      username: z.string(),
      password: secret(z.string()),
    })
    .optional(),
  tls: z.union([z.boolean(), tlsConfig]).optional(),
  queue: z.string().optional(),
});

function configError(input: unknown): string {
  try {
    validateConfig(schema, input, 'source "broker"');
  } catch (error) {
    return error instanceof Error ? `${error.message}\n${JSON.stringify(error)}` : String(error);
  }
  throw new Error("the config was accepted");
}

describe("redactText", () => {
  it.each([
    ["amqp://app:s3cret-pw@broker:5672/vhost", "amqp://[redacted]@broker:5672/vhost"],
    ["amqp//app:s3cret-pw@broker", "amqp//[redacted]@broker"],
    ["amqp://app:x@s3cret-pw@broker", "amqp://[redacted]@broker"],
    ["app:s3cret-pw@broker:5672", "[redacted]@broker:5672"],
    ["amqp:/app:s3cret-pw@broker", "[redacted]@broker"],
    ["https://s3cret-token@example.com/x", "https://[redacted]@example.com/x"],
    ["(kafka://u:s3cret-pw@h:9092),", "(kafka://[redacted]@h:9092),"],
  ])("hides the user-info of %s", (url, shown) => {
    expect(redactText(`failed: ${url} refused`)).toBe(`failed: ${shown} refused`);
    expect(redactText(JSON.stringify({ url }))).toBe(JSON.stringify({ url: shown }));
  });

  it("keeps the placeholder of the schemas' examples, so hints stay readable", () => {
    const hint = "Hint: amqp://user:password@host:5672/vhost (amqps:// for TLS).";
    expect(redactText(hint)).toBe(hint);
  });

  it("leaves words without user-info alone", () => {
    const text = "source:file#1 read a.txt@12 from @sluice/kafka at 10:00, mail ops@example.com";
    expect(redactText(text)).toBe(text);
  });

  it("hides PEM blocks, also cut off or inside JSON", () => {
    const shown = redactText(`key ${PRIVATE_KEY} and more`);
    expect(shown).not.toContain(PEM_BODY);
    expect(shown).toContain(
      `-----BEGIN PRIVATE KEY-----${REDACTED}-----END PRIVATE KEY-----\n and more`,
    );
    expect(redactText(JSON.stringify({ key: PRIVATE_KEY }))).not.toContain(PEM_BODY);
    expect(redactText(`cut: -----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY.slice(0, 20)}`)).toBe(
      `cut: -----BEGIN RSA PRIVATE KEY-----${REDACTED}-----END RSA PRIVATE KEY-----`,
    );
  });

  it("hides registered values wherever they appear, also JSON-escaped", () => {
    registerSecretValue('reg"istered-value');
    expect(redactText('token reg"istered-value!')).toBe(`token ${REDACTED}!`);
    expect(redactText(JSON.stringify({ note: 'x reg"istered-value' }))).toBe(
      JSON.stringify({ note: `x ${REDACTED}` }),
    );
  });

  it("hides the values of secret fields once a config holding them was validated", () => {
    // Refused for the misspelt field; the values are registered all the same.
    expect(() =>
      validateConfig(
        schema,
        {
          url: "amqp://broker",
          sasl: { mechanism: "plain", username: "app-user", password: "validated-pw-62aa" },
          tls: { key: "validated-key-0d1e", passphrse: "misspelt-phrase-77c3" },
        },
        "test",
      ),
    ).toThrow(/passphrse/);
    const quoted = redactText(
      "login app-user/validated-pw-62aa refused; key validated-key-0d1e misspelt-phrase-77c3",
    );
    expect(quoted).toBe(`login app-user/${REDACTED} refused; key ${REDACTED} ${REDACTED}`);
  });

  it("is idempotent", () => {
    const once = redactText(`amqp://a:b@h ${PRIVATE_KEY}`);
    expect(redactText(once)).toBe(once);
  });
});

describe("misspelt secret fields", () => {
  it.each([
    "pasword",
    "passowrd",
    "saslPasword",
    "apiKy",
    "client_secrte",
    "authTokn",
    "privateKeyy",
  ])("%s looks like a credential", (name) => {
    expect(looksLikeMisspeltCredentialName(name)).toBe(true);
  });

  it.each(["broken", "topic", "tokenizer", "queue", "keyspace", "host"])("%s does not", (name) => {
    expect(looksLikeMisspeltCredentialName(name)).toBe(false);
  });

  it("redacts a field the schema does not know that is close to one of its secret fields", () => {
    const shown = formatConfig(schema, {
      tls: { ca: "ca-text", keyy: "k3y-value", passphrse: "phrase-value" },
      sasl: { mechanism: "plain", username: "app", pasword: "pw-value" },
    });
    for (const value of ["k3y-value", "phrase-value", "pw-value"]) {
      expect(shown).not.toContain(value);
    }
    expect(shown).toContain('"ca":"ca-text"');
    expect(shown).toContain('"username":"app"');
  });

  it("redacts an Authorization header and other credential names without a schema", () => {
    expect(
      redactConfig(undefined, {
        headers: { Authorization: "Bearer header-token-1f2e", "x-api-key": "api-key-3d4c" },
        saslPasword: "typo-pw-5b6a",
        topic: "orders",
      }),
    ).toEqual({
      headers: { Authorization: REDACTED, "x-api-key": REDACTED },
      saslPasword: REDACTED,
      topic: "orders",
    });
  });

  it("keeps known non-secret fields visible even when close to a secret's name", () => {
    const near = z.strictObject({ key: secret(z.string()), kay: z.string() });
    expect(redactConfig(near, { key: "a", kay: "b", kex: "c" })).toEqual({
      key: REDACTED,
      kay: "b",
      kex: REDACTED,
    });
  });
});

describe("the leaks `sluice check` showed", () => {
  it("a misspelt SASL password and TLS key are not echoed in Config given", () => {
    const shown = configError({
      url: "amqp://broker",
      sasl: { mechanism: "plain", username: "app", pasword: "sasl-pw-value" },
      tls: { keyy: PRIVATE_KEY },
    });
    expect(shown).toContain("Config given:");
    expect(shown).not.toContain("sasl-pw-value");
    expect(shown).not.toContain(PEM_BODY);
  });

  it.each([
    ["a scheme typo", "amqp//app:typo-pw-value@broker"],
    ["a password holding @", "amqp://app:x@at-pw-value@broker"],
  ])("%s in a URL is not echoed", (_case, url) => {
    const shown = configError({ url, queue: 7 });
    expect(shown).toContain("Config given:");
    expect(shown).not.toMatch(/typo-pw-value|at-pw-value|x@/);
  });

  it("a refinement that quotes its input is redacted too", () => {
    const quoting = z.strictObject({
      url: z.string().refine((url) => url.startsWith("amqp://"), {
        error: (issue) => `not an AMQP URL: ${String(issue.input)}`,
      }),
    });
    let message = "";
    try {
      validateConfig(quoting, { url: "amqps//app:quoted-pw-value@broker" }, "test");
    } catch (error) {
      message = `${(error as Error).message}\n${JSON.stringify(error)}`;
    }
    expect(message).toContain("Not an AMQP URL");
    expect(message).not.toContain("quoted-pw-value");
  });
});
