// The TLS and authentication listeners of scripts/services/ (see its README): the test
// certificates are usable for positive and negative tests, a TLS handshake with the test CA
// succeeds on every TLS port, and the logins succeed with the right credentials and fail with
// wrong ones. Start the servers first: scripts/services/start
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import amqp from "amqplib";
import cassandra from "cassandra-driver";
import { Kafka, type KafkaConfig, logLevel, Partitioners } from "kafkajs";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockServer } from "../../support/service-lock.js";
import { uniqueName } from "../smoke/helpers.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TLS_DIR = join(process.env.SLUICE_SERVICES_HOME ?? join(ROOT, ".services"), "tls");
const file = (name: string): Buffer => readFileSync(join(TLS_DIR, name));
const HOST = "127.0.0.1";
const TIMEOUT_MS = 60_000;
/** How long a suite waits for another test process to release a server's lock. */
const LOCK_WAIT_MS = 300_000;

/** The TLS ports of the local servers. */
const PORTS = {
  kafkaSasl: 9094,
  kafkaMtls: 9095,
  cassandraTls: 9142,
  rabbitmqTls: 5671,
  mosquittoTls: 8883,
  mosquittoMtls: 8884,
} as const;

/** Handshake on `port`; resolves with the peer's certificate or rejects with the TLS error. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: HOST, port, rejectUnauthorized: true, ...options });
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no handshake on ${port}`)));
    socket.once("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert);
    });
    socket.once("error", reject);
  });
}

describe("test certificates", () => {
  const ca = new X509Certificate(file("ca.pem"));
  const unknownCa = new X509Certificate(file("unknown-ca.pem"));

  it("exist", () => {
    for (const name of [
      "ca.pem",
      "server.pem",
      "server.key",
      "wrong-host.pem",
      "wrong-host.key",
      "unknown-ca.pem",
      "unknown-server.pem",
      "unknown-server.key",
      "client-sluice.pem",
      "client-sluice.key",
      "client-limited.pem",
      "client-limited.key",
      "unknown-client.pem",
      "unknown-client.key",
    ]) {
      expect(existsSync(join(TLS_DIR, name)), name).toBe(true);
    }
  });

  it("the server certificate names localhost and 127.0.0.1 and is signed by the test CA", () => {
    const server = new X509Certificate(file("server.pem"));
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkHost("localhost")).toBe("localhost");
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
  });

  it("the wrong-host certificate is signed by the test CA but not for localhost", () => {
    const wrong = new X509Certificate(file("wrong-host.pem"));
    expect(wrong.verify(ca.publicKey)).toBe(true);
    expect(wrong.checkHost("localhost")).toBeUndefined();
    expect(wrong.checkIP("127.0.0.1")).toBeUndefined();
    expect(wrong.checkHost("wrong-host.sluice.test")).toBe("wrong-host.sluice.test");
  });

  it("the unknown CA's certificates are for localhost but not signed by the test CA", () => {
    for (const name of ["unknown-server.pem", "unknown-client.pem"]) {
      const cert = new X509Certificate(file(name));
      expect(cert.verify(ca.publicKey), name).toBe(false);
      expect(cert.verify(unknownCa.publicKey), name).toBe(true);
    }
    expect(new X509Certificate(file("unknown-server.pem")).checkHost("localhost")).toBe(
      "localhost",
    );
  });

  it("client certificates carry the user names as CN", () => {
    expect(new X509Certificate(file("client-sluice.pem")).subject).toContain("CN=sluice");
    expect(new X509Certificate(file("client-limited.pem")).subject).toContain("CN=limited");
    expect(new X509Certificate(file("client-sluice.pem")).verify(ca.publicKey)).toBe(true);
  });
});

describe("TLS handshakes", () => {
  const ca = file("ca.pem");
  const client = { cert: file("client-sluice.pem"), key: file("client-sluice.key") };
  const ports = Object.entries(PORTS);

  it.each(ports)("%s (%i) presents a certificate the test CA verifies", async (_, port) => {
    const cert = await handshake(port, { ca, ...client });
    expect(cert.subject.CN).toBe("localhost");
  });

  it.each(ports)("%s (%i) is refused when only the unknown CA is trusted", async (_, port) => {
    await expect(handshake(port, { ca: file("unknown-ca.pem"), ...client })).rejects.toThrow(
      /certificate/i,
    );
  });

  it.each(ports)("%s (%i) is refused for another host name", async (_, port) => {
    await expect(
      handshake(port, { ca, ...client, servername: "wrong-host.sluice.test" }),
    ).rejects.toThrow(/altnames|does not match/i);
  });

  it.each([
    ["kafkaMtls", PORTS.kafkaMtls],
    ["mosquittoMtls", PORTS.mosquittoMtls],
  ])("%s (%i) refuses a client certificate of the unknown CA", async (_, port) => {
    // With TLS 1.3 the server's refusal arrives after the client's handshake completed, so
    // the first read fails rather than the handshake.
    const refused = new Promise<string>((resolve, reject) => {
      const socket = tls.connect({
        host: HOST,
        port,
        ca,
        cert: file("unknown-client.pem"),
        key: file("unknown-client.key"),
      });
      socket.setTimeout(5_000, () => reject(new Error("no refusal within 5 s")));
      socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      socket.once("close", () => resolve("closed"));
      socket.once("secureConnect", () => socket.write(Buffer.alloc(8)));
    });
    expect(await refused).toMatch(/UNKNOWN_CA|CERTIFICATE_UNKNOWN|closed|ECONNRESET/);
  });
});

describe("probe.mjs logins", () => {
  const probe = async (...args: string[]) => {
    try {
      const { stdout } = await run("node", [join(ROOT, "scripts/services/probe.mjs"), ...args]);
      return { ok: true, out: stdout };
    } catch (err) {
      return { ok: false, out: String((err as { stderr?: string }).stderr ?? err) };
    }
  };

  it("every TLS listener answers with the default login and certificate", async () => {
    const names = ["kafka-sasl", "kafka-mtls", "cassandra-tls", "rabbitmq-tls"];
    const result = await probe(...names, "mosquitto-tls", "mosquitto-mtls");
    expect(result.out).not.toMatch(/error/i);
    expect(result.ok).toBe(true);
  });

  it.each(["kafka-sasl", "rabbitmq-tls", "mosquitto-tls"])(
    "%s refuses a wrong password and an unknown user",
    async (name) => {
      expect((await probe(name, "--user", "limited", "--password", "limited-secret")).ok).toBe(
        true,
      );
      const wrong = await probe(name, "--password", "wrong");
      expect(wrong.ok).toBe(false);
      expect(wrong.out).toMatch(/authenticat|refused|not authorized|code 5/i);
      expect((await probe(name, "--user", "nobody", "--password", "x")).ok).toBe(false);
    },
  );
});

describe("kafka", () => {
  let unlock: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    unlock = await lockServer("kafka", LOCK_WAIT_MS);
  }, LOCK_WAIT_MS + 5_000);
  afterAll(async () => {
    await unlock?.();
  });

  const ssl = { ca: [file("ca.pem")], rejectUnauthorized: true };
  const sasl = (username: string, password: string): KafkaConfig => ({
    brokers: [`${HOST}:${PORTS.kafkaSasl}`],
    ssl,
    sasl: { mechanism: "scram-sha-512", username, password },
  });
  const mtls = (name: string): KafkaConfig => ({
    brokers: [`${HOST}:${PORTS.kafkaMtls}`],
    ssl: { ...ssl, cert: file(`${name}.pem`), key: file(`${name}.key`) },
  });
  const client = (config: KafkaConfig) =>
    new Kafka({
      clientId: "sluice-security-test",
      logLevel: logLevel.NOTHING,
      connectionTimeout: 5_000,
      retry: { retries: 1, initialRetryTime: 200 },
      ...config,
    });

  /** Creates a topic through the plain listener (whose anonymous principal may do anything). */
  async function newTopic(prefix: string): Promise<string> {
    const topic = uniqueName(prefix);
    const admin = client({ brokers: [`${HOST}:9092`] }).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    return topic;
  }

  async function produce(config: KafkaConfig, topic: string): Promise<void> {
    const producer = client(config).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ value: "hello" }] });
    } finally {
      await producer.disconnect();
    }
  }

  it(
    "SCRAM-SHA-512: sluice may produce, a wrong password is refused",
    async () => {
      const topic = await newTopic("sec");
      await produce(sasl("sluice", "sluice-secret"), topic);
      await expect(produce(sasl("sluice", "wrong"), topic)).rejects.toThrow(
        /SASL SCRAM SHA512 authentication failed/,
      );
    },
    TIMEOUT_MS,
  );

  it(
    "limited may read but not write, and not see secret.* topics",
    async () => {
      const topic = await newTopic("sec");
      const secret = await newTopic("secret.sec");
      await expect(produce(sasl("limited", "limited-secret"), topic)).rejects.toMatchObject({
        type: "TOPIC_AUTHORIZATION_FAILED",
      });
      const admin = client(sasl("limited", "limited-secret")).admin();
      await admin.connect();
      try {
        const topics = await admin.listTopics();
        expect(topics).toContain(topic);
        expect(topics).not.toContain(secret);
      } finally {
        await admin.disconnect();
      }
    },
    TIMEOUT_MS,
  );

  it(
    "mTLS: the client certificate's CN is the principal",
    async () => {
      const topic = await newTopic("sec");
      await produce(mtls("client-sluice"), topic);
      await expect(produce(mtls("client-limited"), topic)).rejects.toMatchObject({
        type: "TOPIC_AUTHORIZATION_FAILED",
      });
      await expect(
        produce({ brokers: [`${HOST}:${PORTS.kafkaMtls}`], ssl }, topic),
      ).rejects.toThrow(/certificate|Connection error|closed/i);
    },
    TIMEOUT_MS,
  );
});

describe("rabbitmq", () => {
  let unlock: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    unlock = await lockServer("rabbitmq", LOCK_WAIT_MS);
  }, LOCK_WAIT_MS + 5_000);
  afterAll(async () => {
    await unlock?.();
  });

  const tlsOptions = { ca: [file("ca.pem")], timeout: 5_000 };
  const url = (user: string, password: string, vhost = "") =>
    `amqps://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${HOST}:${PORTS.rabbitmqTls}/${encodeURIComponent(vhost)}`;

  it(
    "amqps: sluice logs in, a wrong password is refused, limited only reaches limited.*",
    async () => {
      const ok = await amqp.connect(url("sluice", "sluice-secret", "/"), tlsOptions);
      await ok.close();
      await expect(amqp.connect(url("sluice", "wrong", "/"), tlsOptions)).rejects.toThrow(
        /ACCESS_REFUSED/,
      );
      const limited = await amqp.connect(url("limited", "limited-secret", "/"), tlsOptions);
      try {
        const own = await limited.createChannel();
        await own.assertQueue(`limited.${uniqueName("q")}`, { exclusive: true });
        const other = await limited.createChannel();
        other.on("error", () => {});
        await expect(other.assertQueue(uniqueName("q"), { exclusive: true })).rejects.toThrow(
          /ACCESS_REFUSED/,
        );
      } finally {
        await limited.close().catch(() => {});
      }
    },
    TIMEOUT_MS,
  );

  it(
    "rabbitmq-user makes a user with its own vhost for one test and removes both",
    async () => {
      const user = uniqueName("u");
      const vhost = uniqueName("vh");
      const helper = join(ROOT, "scripts/services/rabbitmq-user");
      await run(helper, ["add", user, "pw-1", "--vhost", vhost]);
      try {
        const conn = await amqp.connect(url(user, "pw-1", vhost), tlsOptions);
        await conn.close();
        // No rights on the default vhost.
        await expect(amqp.connect(url(user, "pw-1", "/"), tlsOptions)).rejects.toThrow(
          /ConnectionClose|NOT_ALLOWED|ACCESS_REFUSED/,
        );
      } finally {
        await run(helper, ["delete", user, "--vhost", vhost]);
      }
      await expect(amqp.connect(url(user, "pw-1", vhost), tlsOptions)).rejects.toThrow(
        /ACCESS_REFUSED/,
      );
    },
    TIMEOUT_MS,
  );
});

describe("mosquitto", () => {
  let unlock: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    unlock = await lockServer("mosquitto", LOCK_WAIT_MS);
  }, LOCK_WAIT_MS + 5_000);
  afterAll(async () => {
    await unlock?.();
  });

  const ca = file("ca.pem");
  async function connect(port: number, options: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
    return mqtt.connectAsync(`mqtts://${HOST}:${port}`, {
      ca,
      rejectUnauthorized: true,
      connectTimeout: 5_000,
      reconnectPeriod: 0,
      ...options,
    });
  }

  /** Subscribes and publishes on `topic`; resolves with whether the message came back. */
  async function roundTrip(client: mqtt.MqttClient, topic: string): Promise<boolean> {
    await client.subscribeAsync(topic, { qos: 1 });
    const received = new Promise<boolean>((resolve) => {
      client.on("message", (t) => t === topic && resolve(true));
      setTimeout(() => resolve(false), 1_000);
    });
    await client.publishAsync(topic, "hello", { qos: 1 });
    return received;
  }

  it(
    "8883: sluice logs in, wrong or missing passwords are refused",
    async () => {
      const client = await connect(PORTS.mosquittoTls, {
        username: "sluice",
        password: "sluice-secret",
      });
      try {
        expect(await roundTrip(client, `private/${uniqueName("t")}`)).toBe(true);
      } finally {
        await client.endAsync();
      }
      await expect(
        connect(PORTS.mosquittoTls, { username: "sluice", password: "wrong" }),
      ).rejects.toThrow(/Not authorized/i);
      await expect(connect(PORTS.mosquittoTls, {})).rejects.toThrow(/Not authorized/i);
    },
    TIMEOUT_MS,
  );

  it(
    "8883: limited may use public/# but gets nothing from other topics",
    async () => {
      const client = await connect(PORTS.mosquittoTls, {
        username: "limited",
        password: "limited-secret",
      });
      try {
        expect(await roundTrip(client, `public/${uniqueName("t")}`)).toBe(true);
        expect(await roundTrip(client, `private/${uniqueName("t")}`)).toBe(false);
      } finally {
        await client.endAsync();
      }
    },
    TIMEOUT_MS,
  );

  it(
    "8884: the client certificate's CN is the user name",
    async () => {
      const sluice = await connect(PORTS.mosquittoMtls, {
        cert: file("client-sluice.pem"),
        key: file("client-sluice.key"),
      });
      try {
        expect(await roundTrip(sluice, `private/${uniqueName("t")}`)).toBe(true);
      } finally {
        await sluice.endAsync();
      }
      const limited = await connect(PORTS.mosquittoMtls, {
        cert: file("client-limited.pem"),
        key: file("client-limited.key"),
      });
      try {
        expect(await roundTrip(limited, `private/${uniqueName("t")}`)).toBe(false);
      } finally {
        await limited.endAsync();
      }
      await expect(connect(PORTS.mosquittoMtls, {})).rejects.toThrow(/certificate/i);
    },
    TIMEOUT_MS,
  );
});

describe("cassandra", () => {
  let unlock: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    unlock = await lockServer("cassandra", LOCK_WAIT_MS);
  }, LOCK_WAIT_MS + 5_000);
  afterAll(async () => {
    await unlock?.();
  });

  async function releaseVersion(options: Partial<cassandra.ClientOptions>): Promise<string> {
    const client = new cassandra.Client({
      contactPoints: [HOST],
      localDataCenter: "datacenter1",
      socketOptions: { connectTimeout: 5_000 },
      ...options,
    });
    try {
      await client.connect();
      const result = await client.execute("SELECT release_version FROM system.local");
      return String(result.rows[0]?.release_version);
    } finally {
      await client.shutdown();
    }
  }

  it(
    "9142 speaks CQL over TLS only; the driver checks the certificate only when asked",
    async () => {
      const port = { port: PORTS.cassandraTls };
      expect(
        await releaseVersion({
          protocolOptions: port,
          sslOptions: { ca: [file("ca.pem")], rejectUnauthorized: true },
        }),
      ).toMatch(/^5\./);
      await expect(
        releaseVersion({
          protocolOptions: port,
          sslOptions: { ca: [file("unknown-ca.pem")], rejectUnauthorized: true },
        }),
      ).rejects.toThrow(/certificate/i);
      await expect(releaseVersion({ protocolOptions: port })).rejects.toThrow(
        /All host\(s\) tried/,
      );
    },
    TIMEOUT_MS,
  );
});

describe("cassandra-auth", () => {
  const AUTH_PORT = 9242;

  /** Runs `query` on the login-tests node with `options`; resolves with the driver's result. */
  async function execute(
    options: Partial<cassandra.ClientOptions>,
    query = "SELECT release_version FROM system.local",
  ): Promise<cassandra.types.ResultSet> {
    const client = new cassandra.Client({
      contactPoints: [HOST],
      localDataCenter: "datacenter1",
      protocolOptions: { port: AUTH_PORT },
      socketOptions: { connectTimeout: 5_000 },
      ...options,
    });
    try {
      await client.connect();
      return await client.execute(query);
    } finally {
      await client.shutdown();
    }
  }
  const tlsOptions = { sslOptions: { ca: [file("ca.pem")], rejectUnauthorized: true } };
  const as = (username: string, password: string) => ({
    ...tlsOptions,
    credentials: { username, password },
  });

  it(
    "9242 requires TLS and a login; the roles log in, a wrong password is refused",
    async () => {
      expect((await execute(as("sluice", "sluice-secret"))).rowLength).toBe(1);
      expect((await execute(as("limited", "limited-secret"))).rowLength).toBe(1);
      await expect(execute(as("sluice", "wrong"))).rejects.toThrow(/password are incorrect/);
      await expect(execute(tlsOptions)).rejects.toThrow(/requires authentication/);
      await expect(
        execute({ credentials: { username: "sluice", password: "sluice-secret" } }),
      ).rejects.toThrow(/All host\(s\) tried/);
    },
    TIMEOUT_MS,
  );

  it(
    "sluice may create and write tables in sluice_secure; limited may only read them",
    async () => {
      const table = `sluice_secure.${uniqueName("grants", "_")}`;
      await execute(as("sluice", "sluice-secret"), `CREATE TABLE ${table} (id int PRIMARY KEY)`);
      try {
        await execute(as("sluice", "sluice-secret"), `INSERT INTO ${table} (id) VALUES (1)`);
        expect(
          (await execute(as("limited", "limited-secret"), `SELECT id FROM ${table}`)).rowLength,
        ).toBe(1);
        await expect(
          execute(as("limited", "limited-secret"), `INSERT INTO ${table} (id) VALUES (2)`),
        ).rejects.toThrow(/has no MODIFY permission/);
        await expect(
          execute(as("limited", "limited-secret"), `CREATE TABLE ${table}_x (id int PRIMARY KEY)`),
        ).rejects.toThrow(/has no CREATE permission/);
      } finally {
        await execute(as("sluice", "sluice-secret"), `DROP TABLE IF EXISTS ${table}`);
      }
    },
    TIMEOUT_MS,
  );
});

describe("mosquitto dynamic security", () => {
  let unlock: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    unlock = await lockServer("mosquitto", LOCK_WAIT_MS);
  }, LOCK_WAIT_MS + 5_000);
  afterAll(async () => {
    await unlock?.();
  });

  const connect = (username: string, password: string) =>
    mqtt.connectAsync(`mqtts://${HOST}:8885`, {
      ca: file("ca.pem"),
      rejectUnauthorized: true,
      connectTimeout: 5_000,
      reconnectPeriod: 0,
      protocolVersion: 5,
      username,
      password,
    });

  it(
    "8885: logins as on 8883, and a subscription the roles deny is refused in the SUBACK",
    async () => {
      await expect(connect("sluice", "wrong")).rejects.toThrow(/Not authorized|Bad user/i);
      const limited = await connect("limited", "limited-secret");
      try {
        await expect(
          limited.subscribeAsync(`sensors/${uniqueName("t")}`, { qos: 1 }),
        ).resolves.toHaveLength(1);
        await expect(
          limited.subscribeAsync(`private/${uniqueName("t")}`, { qos: 1 }),
        ).rejects.toMatchObject({ packet: { granted: [0x87] } });
      } finally {
        await limited.endAsync();
      }
    },
    TIMEOUT_MS,
  );
});
