// The TLS options handed to client libraries, and the warning when the check is turned off.

import { clientTlsOptions, warnIfUnverified } from "sluice/connector";
import { describe, expect, it } from "vitest";

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
