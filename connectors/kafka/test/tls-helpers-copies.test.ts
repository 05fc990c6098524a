// Every connector package carries the same TLS helpers (tls-options.ts, tls-failure.ts) until
// they move into core: the copies must not drift apart, so the connectors word and handle TLS
// alike. The behaviour itself is tested once, in the Cassandra package.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const connectors = fileURLToPath(new URL("../../", import.meta.url));
const read = (pkg: string, file: string) => readFileSync(`${connectors}${pkg}/src/${file}`, "utf8");

describe("the TLS helpers of the connector packages", () => {
  it.each(["tls-options.ts", "tls-failure.ts"])("%s is the same in every package", (file) => {
    const kafka = read("kafka", file);
    for (const pkg of ["rabbitmq", "mqtt", "cassandra"]) expect(read(pkg, file), pkg).toBe(kafka);
  });
});
