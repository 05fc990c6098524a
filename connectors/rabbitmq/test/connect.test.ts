import type { ChannelModel, Options, SocketOptions } from "amqplib";
import { describe, expect, it } from "vitest";
import {
  type BrokerAddress,
  brokerAddresses,
  explainConnectError,
  openConnection,
} from "../src/connect.js";

const base = { heartbeatSeconds: 30, connectTimeoutMs: 5_000 };

describe("brokerAddresses", () => {
  it("takes credentials, port and vhost from the url, and explicit fields over them", () => {
    const [fromUrl] = brokerAddresses(
      { ...base, url: "amqp://ada:p%40ss@broker.local:5700/orders%2Feu" },
      "sluice test",
    );
    expect(fromUrl?.options).toMatchObject({
      protocol: "amqp",
      hostname: "broker.local",
      port: 5700,
      username: "ada",
      password: "p@ss",
      vhost: "orders/eu",
      heartbeat: 30,
    });
    expect(fromUrl?.label).toBe("broker.local:5700");
    expect(fromUrl?.socketOptions).toMatchObject({
      timeout: 5_000,
      clientProperties: { connection_name: "sluice test" },
    });
    const [overridden] = brokerAddresses(
      { ...base, url: "amqp://ada:x@h", username: "bob", password: "y", vhost: "v" },
      "n",
    );
    expect(overridden?.options).toMatchObject({ username: "bob", password: "y", vhost: "v" });
  });

  it("defaults to guest, vhost / and port 5672, or 5671 with TLS", () => {
    const [plain] = brokerAddresses({ ...base, url: "amqp://h" }, "n");
    expect(plain?.options).toMatchObject({
      username: "guest",
      password: "guest",
      vhost: "/",
      port: 5672,
    });
    const [secure] = brokerAddresses({ ...base, url: "amqps://h/" }, "n");
    expect(secure?.options).toMatchObject({ protocol: "amqps", port: 5671, vhost: "/" });
    const [tls] = brokerAddresses(
      { ...base, hosts: ["h"], tls: { rejectUnauthorized: false, servername: "broker" } },
      "n",
    );
    expect(tls?.options.port).toBe(5671);
    expect(tls?.socketOptions).toMatchObject({ rejectUnauthorized: false, servername: "broker" });
  });

  it("lists hosts in order, IPv6 ones in brackets", () => {
    const addresses = brokerAddresses({ ...base, hosts: ["a:1", "[::1]:2", "b"] }, "n");
    expect(addresses.map((address) => address.label)).toEqual(["a:1", "[::1]:2", "b:5672"]);
    expect(addresses[1]?.options.hostname).toBe("::1");
  });
});

const broker: BrokerAddress = brokerAddresses(
  { ...base, hosts: ["10.0.0.9:5999"] },
  "n",
)[0] as BrokerAddress;
const withCode = (message: string, code?: string) => Object.assign(new Error(message), { code });

describe("explainConnectError", () => {
  it("retries what may pass (NotConnected) and names the broker and what to check", () => {
    for (const [error, says] of [
      [withCode("connect ECONNREFUSED", "ECONNREFUSED"), "connection refused"],
      [withCode("connect ETIMEDOUT", "ETIMEDOUT"), "no answer"],
      [withCode("getaddrinfo ENOTFOUND", "ENOTFOUND"), 'the host name "10.0.0.9" does not resolve'],
      [withCode("read ECONNRESET", "ECONNRESET"), "closed during the handshake"],
      [new Error("socket timed out"), "no answer in time"],
    ] as const) {
      const explained = explainConnectError(error, broker);
      expect(explained.code).toBe("SLUICE_NOT_CONNECTED");
      expect(explained.message).toContain("RabbitMQ at 10.0.0.9:5999");
      expect(explained.message).toContain(says);
      expect(explained.message).toContain("Check");
      expect(explained.cause).toBe(error);
    }
  });

  it("fails at once on refusals: login, vhost, TLS, not AMQP", () => {
    const cases = [
      [
        new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "..."'),
        'check "username" and "password"',
      ],
      [new Error("Expected ConnectionOpenOk; got <ConnectionClose channel:0>"), 'check "vhost"'],
      [
        withCode("wrong version number", "ERR_SSL_WRONG_VERSION_NUMBER"),
        "the port does not speak TLS",
      ],
      [withCode("self signed", "DEPTH_ZERO_SELF_SIGNED_CERT"), "tls.ca"],
      [new Error("Frame size 1345270062 exceeds maxFrameSize 67108864"), "not AMQP 0-9-1"],
    ] as const;
    for (const [error, says] of cases) {
      const explained = explainConnectError(error, broker);
      expect(explained.code).toBe("SLUICE_CONNECTOR_REFUSED");
      expect(explained.message).toContain("RabbitMQ at 10.0.0.9:5999");
      expect(explained.message).toContain(says);
    }
  });
});

describe("openConnection", () => {
  const fake = {} as ChannelModel;

  it("tries the brokers in order and returns the first that answers", async () => {
    const tried: string[] = [];
    const connect = async (options: Options.Connect, _socket: SocketOptions) => {
      tried.push(`${options.hostname}:${options.port}`);
      if (options.hostname === "down") throw withCode("refused", "ECONNREFUSED");
      return fake;
    };
    const addresses = brokerAddresses({ ...base, hosts: ["down:1", "up:2", "never:3"] }, "n");
    const opened = await openConnection(addresses, AbortSignal.timeout(1_000), connect);
    expect(opened.connection).toBe(fake);
    expect(opened.broker.label).toBe("up:2");
    expect(tried).toEqual(["down:1", "up:2"]);
  });

  it("stops at a refusal instead of trying the next broker", async () => {
    const connect = async () => {
      throw new Error("Handshake terminated by server: 403 (ACCESS-REFUSED)");
    };
    const addresses = brokerAddresses({ ...base, hosts: ["a:1", "b:2"] }, "n");
    await expect(
      openConnection(addresses, AbortSignal.timeout(1_000), connect),
    ).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_REFUSED",
      message: expect.stringContaining("a:1"),
    });
  });

  it("settles on abort and closes a connection that opens late", async () => {
    let closed = false;
    let open: (connection: ChannelModel) => void = () => undefined;
    const late = {
      close: async () => {
        closed = true;
      },
    } as unknown as ChannelModel;
    const connect = () =>
      new Promise<ChannelModel>((resolve) => {
        open = resolve;
      });
    const controller = new AbortController();
    const opening = openConnection(
      brokerAddresses({ ...base, hosts: ["a"] }, "n"),
      controller.signal,
      connect,
    );
    controller.abort(new Error("stopping"));
    await expect(opening).rejects.toThrow("stopping");
    open(late);
    await expect.poll(() => closed).toBe(true);
  });
});
