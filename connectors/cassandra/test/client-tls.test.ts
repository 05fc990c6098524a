// The driver options a `tls` setting becomes: the server's certificate is checked unless the
// config turns it off by name (cassandra-driver itself checks nothing unless told to).
import { validateConfig } from "sluice";
import { describe, expect, it } from "vitest";
import { TEST_CA } from "../../../core/test/connector/tls-fixtures.js";
import { createCassandraClient } from "../src/cassandra-client.js";
import { cassandraClientConfig } from "../src/client-config.js";

function sslOptionsOf(tls: unknown): unknown {
  const config = validateConfig(
    cassandraClientConfig,
    { contactPoints: ["127.0.0.1:9142"], ...(tls === undefined ? {} : { tls }) },
    "test",
  );
  const client = createCassandraClient(config) as unknown as { options: { sslOptions?: unknown } };
  return client.options.sslOptions;
}

describe("createCassandraClient and tls", () => {
  it("tls: true checks the server's certificate against Node's CAs", () => {
    expect(sslOptionsOf(true)).toEqual({ rejectUnauthorized: true });
  });

  it("TLS options without rejectUnauthorized check the certificate against tls.ca", () => {
    expect(sslOptionsOf({ ca: TEST_CA })).toEqual({ ca: TEST_CA, rejectUnauthorized: true });
  });

  it("only rejectUnauthorized: false turns the check off", () => {
    expect(sslOptionsOf({ rejectUnauthorized: false })).toEqual({ rejectUnauthorized: false });
  });

  it("no tls, or tls: false, is no TLS", () => {
    expect(sslOptionsOf(undefined)).toBeUndefined();
    expect(sslOptionsOf(false)).toBeUndefined();
  });
});
