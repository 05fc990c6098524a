// What a failed TLS handshake names to fix, found wherever the client library wrapped it.

import { tlsFailureOf, tlsRefused } from "sluice/connector";
import { describe, expect, it } from "vitest";

const tlsError = (code: string, message = code) => Object.assign(new Error(message), { code });

describe("tlsFailureOf", () => {
  it.each([
    ["SELF_SIGNED_CERT_IN_CHAIN", "tls.ca"],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "tls.ca"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "tls.ca"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "tls.servername"],
    ["ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "tls.cert"],
    ["ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "tls.cert"],
    ["ERR_SSL_WRONG_VERSION_NUMBER", "the port"],
    ["CERT_HAS_EXPIRED", "the server's certificate"],
    ["ERR_SSL_SOMETHING_ELSE", "tls"],
  ])("%s names %s", (code, option) => {
    expect(tlsFailureOf(tlsError(code))?.option).toBe(option);
  });

  it("finds the failure in a cause, an errors list, per-host innerErrors or originalError", () => {
    const inner = tlsError("SELF_SIGNED_CERT_IN_CHAIN");
    for (const wrapper of [
      new Error("outer", { cause: inner }),
      Object.assign(new Error("all failed"), { errors: [new Error("other"), inner] }),
      Object.assign(new Error("no host"), { innerErrors: { "127.0.0.1:9042": inner } }),
      Object.assign(new Error("kafkajs"), { originalError: inner }),
    ]) {
      expect(tlsFailureOf(wrapper)?.code).toBe("SELF_SIGNED_CERT_IN_CHAIN");
    }
  });

  it("is undefined for failures that are not about TLS, and for odd values", () => {
    expect(tlsFailureOf(tlsError("ECONNREFUSED"))).toBeUndefined();
    expect(tlsFailureOf("text")).toBeUndefined();
    expect(tlsFailureOf(null)).toBeUndefined();
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(tlsFailureOf(loop)).toBeUndefined();
  });

  it("keeps the first line of a multi-line OpenSSL message", () => {
    const failure = tlsFailureOf(tlsError("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version\nat x"));
    expect(failure?.reason).toBe("wrong version");
  });
});

describe("tlsRefused", () => {
  it("is a SLUICE_CONNECTOR_REFUSED naming the server, the setting and the code", () => {
    const error = tlsRefused(tlsError("ERR_TLS_CERT_ALTNAME_INVALID"), "Kafka at 127.0.0.1:9094");
    expect(error?.code).toBe("SLUICE_CONNECTOR_REFUSED");
    expect(error?.message).toContain("Kafka at 127.0.0.1:9094");
    expect(error?.message).toContain("tls.servername");
    expect(error?.message).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
  });

  it("is undefined when the failure is not about TLS", () => {
    expect(tlsRefused(tlsError("ECONNRESET"), "somewhere")).toBeUndefined();
  });
});
