// The TLS options handed to client libraries, and the warning when the check is turned off.

import { clientTlsOptions, warnAboutTls, warnIfUnverified } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { CLIENT_CERT, CLIENT_KEY, TEST_CA } from "./tls-fixtures.js";

describe("clientTlsOptions", () => {
  it("checks the server's certificate unless told not to by name", () => {
    expect(clientTlsOptions(true)).toEqual({ rejectUnauthorized: true });
    expect(clientTlsOptions({ ca: "PEM" })).toEqual({ ca: "PEM", rejectUnauthorized: true });
    expect(clientTlsOptions({ rejectUnauthorized: false })).toEqual({ rejectUnauthorized: false });
    expect(clientTlsOptions(false)).toBeUndefined();
    expect(clientTlsOptions(undefined)).toBeUndefined();
  });
});

describe("warnIfUnverified", () => {
  const warnings = (tls: Parameters<typeof warnIfUnverified>[0]) => {
    const lines: unknown[][] = [];
    warnIfUnverified(tls, { warn: (...args: unknown[]) => lines.push(args) } as never, "X sink");
    return lines;
  };

  it("warns once, naming the connector and the option, when the check is off", () => {
    const lines = warnings({ rejectUnauthorized: false });
    expect(lines).toHaveLength(1);
    expect(String(lines[0]?.[1])).toContain("X sink");
    expect(String(lines[0]?.[1])).toContain("tls.rejectUnauthorized is false");
  });

  it("says nothing when the certificate is checked", () => {
    expect(warnings(true)).toEqual([]);
    expect(warnings({ ca: "PEM" })).toEqual([]);
    expect(warnings(undefined)).toEqual([]);
  });
});

describe("warnAboutTls: certificates out of date or in the wrong place", () => {
  // The fixtures are valid from 2026-12-06 to 2126-11-12.
  const warnings = (tls: Parameters<typeof warnAboutTls>[0], now: string) => {
    const lines: unknown[][] = [];
    const logger = { warn: (...args: unknown[]) => lines.push(args) };
    warnAboutTls(tls, logger as never, "X source", new Date(now));
    return lines.map(([fields, message]) => ({ fields, message: String(message) }));
  };
  const material = { ca: TEST_CA, cert: CLIENT_CERT, key: CLIENT_KEY };

  it("says nothing while every certificate is valid", () => {
    expect(warnings(material, "2030-01-01T00:00:00Z")).toEqual([]);
  });

  it("names the field, the certificate and the date of an expired one", () => {
    const lines = warnings({ ...material, ca: [TEST_CA, TEST_CA] }, "2127-01-01T00:00:00Z");
    expect(lines.map((line) => line.fields)).toEqual([
      { option: "tls.ca.0" },
      { option: "tls.ca.1" },
      { option: "tls.cert" },
    ]);
    expect(lines[2]?.message).toBe(
      "X source: tls.cert: The certificate (O=Sluice unit tests, CN=unit-client) expired on 2126-11-12T16:25:51.000Z: TLS handshakes that need it fail; give a renewed certificate.",
    );
  });

  it("tells a certificate not valid yet, pointing at the clock", () => {
    const lines = warnings({ ca: TEST_CA }, "2026-01-01T00:00:00Z");
    expect(lines).toHaveLength(1);
    expect(lines[0]?.message).toContain(
      "tls.ca: The certificate (O=Sluice unit tests, CN=Sluice unit test CA) is not valid before 2026-12-06T16:25:51.000Z",
    );
    expect(lines[0]?.message).toContain("check this machine's clock");
  });

  it("tells a client's or server's own certificate given as the CA, naming its issuer", () => {
    const lines = warnings({ ca: [TEST_CA, CLIENT_CERT] }, "2030-01-01T00:00:00Z");
    expect(lines).toEqual([
      {
        fields: { option: "tls.ca.1" },
        message:
          "X source: tls.ca.1: The certificate (O=Sluice unit tests, CN=unit-client) is not a CA's certificate (its basic constraints say CA:FALSE) and is not self-signed, so no server's certificate can be checked against it; give the certificate of the CA that issued it (O=Sluice unit tests, CN=Sluice unit test CA).",
      },
    ]);
  });

  it("leaves unparsable text to the config check", () => {
    expect(warnings({ ca: "not a certificate" }, "2127-01-01T00:00:00Z")).toEqual([]);
  });
});
