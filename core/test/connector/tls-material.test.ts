// The PEM text of `tls` checked with node:crypto when a config is validated, before anything
// connects: one test per rule, the error a connector's config gets for it (typed, naming the
// field, never the key or the passphrase), the warning for a passphrase nothing uses, and what a
// client library's load failure turns into when a config skipped the check.

import tls from "node:tls";
import {
  ConfigValidationError,
  connectAdvice,
  passphraseUnused,
  type TlsMaterial,
  tlsConfig,
  tlsMaterialProblems,
  tlsRefused,
  unloadableTls,
  validateConfig,
  warnAboutTls,
} from "sluice/connector";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { expectNoSecretShown } from "../../../test/integration/security/security-helpers.js";
import {
  CLIENT_CERT,
  CLIENT_KEY,
  encryptedClientKey,
  KEY_PASSPHRASE,
  otherKey,
  publicKey,
  TEST_CA,
} from "./tls-fixtures.js";

const WRONG_PASSPHRASE = "wrong-passphrase-5c0d";
const GARBAGE_KEY = "garbage-key-text-9d2f";
// A line from the middle of the key: the key's own text, which no message may hold.
const KEY_LINE = CLIENT_KEY.split("\n")[1] ?? "";
const SECRETS = [KEY_PASSPHRASE, WRONG_PASSPHRASE, GARBAGE_KEY, KEY_LINE];

/** The problems as `path: message` lines, checked to hold none of `SECRETS`. */
function problems(material: TlsMaterial): string[] {
  const lines = tlsMaterialProblems(material).map(
    ({ path, message }) => `${path.join(".")}: ${message}`,
  );
  for (const line of lines) for (const secret of SECRETS) expect(line).not.toContain(secret);
  return lines;
}

describe("tlsMaterialProblems: accepted", () => {
  it("a CA, a client certificate and its key", () => {
    expect(problems({ ca: TEST_CA, cert: CLIENT_CERT, key: CLIENT_KEY })).toEqual([]);
  });

  it("a list of CAs, a bundle, a certificate chain (own certificate first), a CA alone", () => {
    expect(problems({ ca: [TEST_CA, `${TEST_CA}${CLIENT_CERT}`] })).toEqual([]);
    expect(problems({ cert: `${CLIENT_CERT}${TEST_CA}`, key: CLIENT_KEY })).toEqual([]);
    expect(problems({ ca: `# comment before the block\n${TEST_CA}` })).toEqual([]);
  });

  it('the other labels OpenSSL reads certificates under: "TRUSTED CERTIFICATE", "X509 CERTIFICATE"', () => {
    for (const label of ["TRUSTED CERTIFICATE", "X509 CERTIFICATE"]) {
      const relabelled = TEST_CA.replace(/(BEGIN|END) CERTIFICATE/g, `$1 ${label}`);
      expect(problems({ ca: relabelled })).toEqual([]);
    }
  });

  it("an encrypted key with its passphrase, PKCS#8 or traditional", () => {
    for (const form of ["pkcs8", "sec1"] as const) {
      const key = encryptedClientKey(form);
      expect(problems({ cert: CLIENT_CERT, key, passphrase: KEY_PASSPHRASE })).toEqual([]);
    }
  });
});

describe("tlsMaterialProblems: refused", () => {
  it("tls.key that is not a PEM private key", () => {
    expect(problems({ cert: CLIENT_CERT, key: GARBAGE_KEY })).toEqual([
      expect.stringMatching(
        /^key: Not a PEM private key \(DECODER routines::unsupported\): give the key's PEM text, or a \$\{file:…\} reference/,
      ),
    ]);
  });

  it("tls.key holding a certificate, a public key or a file name", () => {
    expect(problems({ cert: CLIENT_CERT, key: CLIENT_CERT })).toEqual([
      expect.stringMatching(/^key: Holds a certificate, not a private key: .* goes in tls\.cert/),
    ]);
    expect(problems({ cert: CLIENT_CERT, key: publicKey() })).toEqual([
      expect.stringMatching(/^key: Holds a public key/),
    ]);
    expect(problems({ cert: CLIENT_CERT, key: "/etc/sluice/client.key" })).toEqual([
      expect.stringMatching(/^key: A file name, not PEM text: .*\$\{file:<its path>\}/),
    ]);
  });

  it("tls.ca that is not a certificate, naming the entry of a list", () => {
    expect(problems({ ca: "ca.pem" })).toEqual([
      expect.stringMatching(/^ca: A file name, not PEM text/),
    ]);
    expect(problems({ ca: [TEST_CA, "not pem"] })).toEqual([
      expect.stringMatching(/^ca\.1: Not PEM text \(no "BEGIN CERTIFICATE" line\)/),
    ]);
    expect(problems({ ca: CLIENT_KEY })).toEqual([
      expect.stringMatching(
        /^ca: Holds a private key, not a certificate: the key goes in tls\.key/,
      ),
    ]);
    expect(problems({ ca: publicKey() })).toEqual([
      expect.stringMatching(/^ca: Holds a PEM "PUBLIC KEY" block, not a certificate/),
    ]);
  });

  it("a damaged certificate, naming which of a bundle", () => {
    // One character of the signature changed keeps the PEM shape but breaks the DER inside.
    const damaged = CLIENT_CERT.replace(/\n([A-Za-z0-9+/]{10})/, "\n!!!!!!!!!!");
    expect(problems({ ca: `${TEST_CA}${damaged}` })).toEqual([
      expect.stringMatching(
        /^ca: Certificate 2 of 2 does not parse \(.+\): the PEM text is damaged/,
      ),
    ]);
    expect(problems({ cert: damaged, key: CLIENT_KEY })).toEqual([
      expect.stringMatching(/^cert: The certificate does not parse/),
    ]);
  });

  it("tls.cert holding a key", () => {
    expect(problems({ cert: CLIENT_KEY, key: CLIENT_KEY })).toEqual([
      expect.stringMatching(/^cert: Holds a private key, not a certificate/),
    ]);
  });

  it("an encrypted key without a passphrase, PKCS#8 or traditional", () => {
    for (const form of ["pkcs8", "sec1"] as const) {
      expect(problems({ cert: CLIENT_CERT, key: encryptedClientKey(form) })).toEqual([
        expect.stringMatching(/^passphrase: Required: tls\.key is encrypted; give the passphrase/),
      ]);
    }
  });

  it("an encrypted key with a wrong passphrase", () => {
    const key = encryptedClientKey("pkcs8");
    expect(problems({ cert: CLIENT_CERT, key, passphrase: WRONG_PASSPHRASE })).toEqual([
      expect.stringMatching(/^passphrase: Does not decrypt tls\.key \(.*bad decrypt\)/),
    ]);
  });

  it("a certificate without its key, and a key without its certificate", () => {
    expect(problems({ ca: TEST_CA, cert: CLIENT_CERT })).toEqual([
      expect.stringMatching(/^key: Required with tls\.cert: give the private key/),
    ]);
    expect(problems({ ca: TEST_CA, key: CLIENT_KEY })).toEqual([
      expect.stringMatching(/^cert: Required with tls\.key: give the client certificate/),
    ]);
  });

  it("a key that does not belong to the certificate, naming the certificate", () => {
    expect(problems({ cert: CLIENT_CERT, key: otherKey() })).toEqual([
      expect.stringMatching(
        /^key: Does not belong to the certificate in tls\.cert \(O=Sluice unit tests, CN=unit-client\)/,
      ),
    ]);
  });

  it("a chain with the client's own certificate not first", () => {
    expect(problems({ cert: `${TEST_CA}${CLIENT_CERT}`, key: CLIENT_KEY })).toEqual([
      expect.stringMatching(
        /^cert: Lists the certificate of tls\.key in place 2: put the client's own/,
      ),
    ]);
  });
});

describe("a connector config with bad TLS material", () => {
  // What a connector's schema looks like: `tls` is `true` or core's settings.
  const schema = z.strictObject({
    brokers: z.array(z.string()),
    tls: z.union([z.boolean(), tlsConfig]).optional(),
  });

  function refusal(tlsSetting: Record<string, unknown>): ConfigValidationError {
    try {
      validateConfig(schema, { brokers: ["b:9094"], tls: tlsSetting }, 'source "kafka"');
    } catch (error) {
      if (error instanceof ConfigValidationError) return error;
      throw error;
    }
    throw new Error("the config was accepted");
  }

  it("is a SLUICE_INVALID_CONFIG naming the connector and the field, before anything connects", () => {
    const error = refusal({ ca: TEST_CA, cert: CLIENT_CERT, key: GARBAGE_KEY });
    expect(error.code).toBe("SLUICE_INVALID_CONFIG");
    expect(error.issues.map((issue) => issue.path)).toEqual(["tls.key"]);
    expect(error.message).toContain('Invalid config for source "kafka"');
    expect(error.message).toContain("tls.key: Not a PEM private key");
  });

  it("never shows the key or the passphrase, however the error is shown", () => {
    const cases = [
      { cert: CLIENT_CERT, key: GARBAGE_KEY, passphrase: KEY_PASSPHRASE },
      { cert: CLIENT_CERT, key: encryptedClientKey("pkcs8"), passphrase: WRONG_PASSPHRASE },
      { cert: CLIENT_KEY, key: CLIENT_KEY },
      { cert: CLIENT_CERT, key: `${CLIENT_KEY}`.replace("PRIVATE KEY", "PRIVATE KEX") },
    ];
    for (const tlsSetting of cases) {
      const error = refusal(tlsSetting);
      expectNoSecretShown(error, SECRETS);
    }
  });

  it("is kept by a schema that extends core's tls settings with safeExtend", () => {
    const extended = tlsConfig.safeExtend({ rejectUnauthorized: z.boolean().default(false) });
    const result = extended.safeParse({ cert: CLIENT_CERT });
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toEqual(["key"]);
  });
});

describe("warnAboutTls", () => {
  const warnings = (setting: Parameters<typeof warnAboutTls>[0]) => {
    const lines: unknown[][] = [];
    warnAboutTls(setting, { warn: (...args: unknown[]) => lines.push(args) } as never, "X source");
    return lines;
  };

  it("warns, naming tls.passphrase and the connector, when the key is not encrypted", () => {
    const lines = warnings({ cert: CLIENT_CERT, key: CLIENT_KEY, passphrase: KEY_PASSPHRASE });
    expect(lines).toEqual([
      [
        { option: "tls.passphrase" },
        expect.stringMatching(/^X source: tls\.passphrase is set, but tls\.key is not encrypted/),
      ],
    ]);
    expect(JSON.stringify(lines)).not.toContain(KEY_PASSPHRASE);
    expect(passphraseUnused({ key: CLIENT_KEY, passphrase: "" })).toBe(true);
  });

  it("warns when there is no key at all", () => {
    const lines = warnings({ ca: TEST_CA, passphrase: KEY_PASSPHRASE });
    expect(String(lines[0]?.[1])).toContain("tls.passphrase is set, but there is no tls.key");
    expect(lines).toHaveLength(1);
  });

  it("says nothing when the passphrase decrypts the key, or there is none", () => {
    const key = encryptedClientKey("sec1");
    expect(warnings({ cert: CLIENT_CERT, key, passphrase: KEY_PASSPHRASE })).toEqual([]);
    expect(warnings({ cert: CLIENT_CERT, key: CLIENT_KEY })).toEqual([]);
    expect(warnings(true)).toEqual([]);
  });

  it("still warns when the certificate check is off", () => {
    const lines = warnings({ rejectUnauthorized: false });
    expect(String(lines[0]?.[1])).toContain("tls.rejectUnauthorized is false");
  });
});

describe("TLS settings a client library could not load", () => {
  const loadError = (options: tls.SecureContextOptions): unknown => {
    try {
      tls.createSecureContext(options);
    } catch (error) {
      return error;
    }
    throw new Error("node:tls loaded the settings");
  };
  const target = {
    host: "127.0.0.1",
    port: 9094,
    label: "127.0.0.1:9094",
    at: "Kafka at 127.0.0.1:9094",
    resetMeans: "reset",
    portKind: "a Kafka port",
    tlsPort: 9094,
  };

  it.each([
    ["a key of another certificate", { cert: CLIENT_CERT, key: otherKey() }, "fix: tls.key"],
    [
      "no passphrase",
      { cert: CLIENT_CERT, key: encryptedClientKey("pkcs8") },
      "fix: tls.passphrase",
    ],
    [
      "a key that does not parse",
      { cert: CLIENT_CERT, key: GARBAGE_KEY },
      "fix: tls.ca, tls.cert or tls.key",
    ],
  ])(
    "%s is a SLUICE_INVALID_CONFIG naming the setting, not a failed handshake",
    (_name, options, fix) => {
      const cause = loadError(options);
      for (const error of [
        tlsRefused(cause, target.at),
        connectAdvice(cause, target).network(),
        unloadableTls(options, target.at),
      ]) {
        expect(error?.code).toBe("SLUICE_INVALID_CONFIG");
        expect(error?.message).toContain(
          "The TLS settings for Kafka at 127.0.0.1:9094 do not load",
        );
        expect(error?.message).toContain(fix);
      }
    },
  );

  it("unloadableTls is undefined for settings Node loads", () => {
    const settings = { ca: TEST_CA, cert: CLIENT_CERT, key: CLIENT_KEY };
    expect(unloadableTls(settings, target.at)).toBeUndefined();
    expect(unloadableTls({}, target.at)).toBeUndefined();
  });
});
