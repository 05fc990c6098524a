import type { IClientOptions } from "mqtt";
import { describe, expect, it } from "vitest";
import { type BrokerAddress, brokerAddresses, explainConnectError } from "../src/connect.js";
import { HOLD_ACK, holdAcks } from "../src/held-acks.js";

const base = { keepaliveSeconds: 30, connectTimeoutMs: 5_000 };

describe("brokerAddresses", () => {
  it("speaks MQTT 5 and leaves reconnecting to Sluice", () => {
    const [address] = brokerAddresses({ ...base, url: "mqtt://ada:p%40ss@broker:1999" });
    expect(address?.label).toBe("broker:1999");
    expect(address?.options).toMatchObject({
      protocol: "mqtt",
      host: "broker",
      port: 1999,
      username: "ada",
      password: "p@ss",
      protocolVersion: 5,
      reconnectPeriod: 0,
      keepalive: 30,
      connectTimeout: 5_000,
    } satisfies IClientOptions);
  });

  it("picks TLS and its default port from the url or the tls option", () => {
    expect(brokerAddresses({ ...base, url: "mqtts://h" })[0]?.options).toMatchObject({
      protocol: "mqtts",
      port: 8883,
    });
    const [tls] = brokerAddresses({
      ...base,
      hosts: ["h"],
      tls: { rejectUnauthorized: false, servername: "b" },
    });
    expect(tls?.options).toMatchObject({
      protocol: "mqtts",
      port: 8883,
      rejectUnauthorized: false,
      servername: "b",
    });
    expect(brokerAddresses({ ...base, url: "ws://h/mqtt" })[0]?.options).toMatchObject({
      protocol: "ws",
      port: 80,
      path: "/mqtt",
    });
  });

  it("lists hosts in order, explicit credentials over the url's", () => {
    const addresses = brokerAddresses({
      ...base,
      hosts: ["a:1", "[::1]:2", "b"],
      username: "u",
      password: "p",
    });
    expect(addresses.map((address) => address.label)).toEqual(["a:1", "[::1]:2", "b:1883"]);
    expect(addresses[2]?.options).toMatchObject({ username: "u", password: "p" });
  });
});

const broker = brokerAddresses({ ...base, hosts: ["10.0.0.9:1999"] })[0] as BrokerAddress;
const withCode = (message: string, code: string | number) =>
  Object.assign(new Error(message), { code });

describe("explainConnectError", () => {
  it("retries what may pass and names the broker and what to check", () => {
    for (const error of [
      withCode("connect ECONNREFUSED", "ECONNREFUSED"),
      withCode("getaddrinfo ENOTFOUND", "ENOTFOUND"),
      withCode("Connection refused: Server busy", 137),
      new Error("connack timeout"),
    ]) {
      const explained = explainConnectError(error, broker);
      expect(explained.code).toBe("SLUICE_NOT_CONNECTED");
      expect(explained.message).toContain("MQTT broker at 10.0.0.9:1999");
      expect(explained.message).toContain("Check");
    }
  });

  it("fails at once on refusals", () => {
    const cases = [
      [withCode("Connection refused: Bad User Name or Password", 134), '"username" and "password"'],
      [withCode("Connection refused: Not authorized", 135), "access rules"],
      [withCode("Connection refused: Client Identifier not valid", 133), 'client id "job-1"'],
      [withCode("Connection refused: Unsupported Protocol Version", 132), "MQTT 5"],
      [withCode("self signed", "DEPTH_ZERO_SELF_SIGNED_CERT"), "tls.ca"],
      [new Error("Invalid header flag bits, must be 0x0 for puback packet"), "not MQTT"],
    ] as const;
    for (const [error, says] of cases) {
      const explained = explainConnectError(error, broker, "job-1");
      expect(explained.code).toBe("SLUICE_CONNECTOR_REFUSED");
      expect(explained.message).toContain("MQTT broker at 10.0.0.9:1999");
      expect(explained.message).toContain(says);
    }
  });
});

describe("holdAcks", () => {
  it("hands the message over and answers mqtt.js so that it sends no acknowledgement", () => {
    const seen: string[] = [];
    const answers: unknown[] = [];
    const handler = holdAcks((topic, payload) => {
      seen.push(`${topic}:${payload.toString()}`);
    });
    handler("t", Buffer.from("v"), { cmd: "publish", qos: 1, messageId: 7 } as never, (error) =>
      answers.push(error),
    );
    expect(seen).toEqual(["t:v"]);
    expect(answers).toEqual([HOLD_ACK]);
  });

  it("still answers mqtt.js when handling the message throws, so the connection never stalls", () => {
    const answers: unknown[] = [];
    const handler = holdAcks(() => {
      throw new Error("boom");
    });
    expect(() =>
      handler("t", Buffer.from("v"), {} as never, (error) => answers.push(error)),
    ).toThrow("boom");
    expect(answers).toEqual([HOLD_ACK]);
  });

  it("answers mqtt.js only once a returned promise settles, holding its next packet until then", async () => {
    const answers: unknown[] = [];
    let release: () => void = () => undefined;
    const handler = holdAcks(
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    handler("t", Buffer.from("v"), {} as never, (error) => answers.push(error));
    await Promise.resolve();
    expect(answers).toEqual([]);
    release();
    await expect.poll(() => answers).toEqual([HOLD_ACK]);
  });
});
