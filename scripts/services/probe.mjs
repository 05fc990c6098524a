#!/usr/bin/env node
// Protocol-level readiness probes for the local servers, without dependencies.
//
//   node scripts/services/probe.mjs <probe> [<probe> ...] [--timeout <ms>] [--quiet]
//        [--user <name>] [--password <secret>] [--cert <name>] [--ca <file>] [--cql-file <file>]
//
// Exits 0 when every named listener on 127.0.0.1 answers its own protocol, 1 when one does not
// (the reason goes to stderr unless --quiet), 2 on bad usage. An open port is not enough:
// Cassandra and RabbitMQ accept connections before they can serve them.
//
// Plain listeners:
// - kafka (9092):          ApiVersions v0 request (api key 18) answered with error code 0.
// - cassandra (9042):      OPTIONS answered by SUPPORTED, STARTUP by READY (or AUTHENTICATE,
//                          then PLAIN cassandra/cassandra), then `SELECT release_version FROM
//                          system.local` answered with one row.
// - rabbitmq (5672):       the AMQP 0-9-1 protocol header answered by a Connection.Start frame.
// - mosquitto (1883):      MQTT 3.1.1 CONNECT answered by CONNACK with return code 0.
// - mosquitto-limits (1886): the same, on the broker whose packets are limited to 4096 bytes.
// TLS listeners (the server's certificate must verify against the test CA, .services/tls/ca.pem,
// for 127.0.0.1; --ca takes another CA file):
// - kafka-sasl (9094):     SaslHandshake v1 for SCRAM-SHA-512, a full SCRAM exchange through
//                          SaslAuthenticate (the server's signature checked), then ApiVersions.
// - kafka-mtls (9095):     TLS with a client certificate, then ApiVersions.
// - cassandra-tls (9142):  the same CQL exchange as cassandra.
// - cassandra-auth (9242): the second node, which requires TLS and a login: the same CQL
//                          exchange, logging in with the user and password (PLAIN); with
//                          --cql-file it then runs each statement of the file (one per line,
//                          blank lines and lines starting with -- skipped) before the query.
// - rabbitmq-tls (5671):   Connection.Start, then Start-Ok with PLAIN user and password
//                          answered by Connection.Tune (a refused login gets Close or EOF).
// - mosquitto-tls (8883):  CONNECT with user name and password answered by CONNACK 0.
// - mosquitto-dynsec (8885): the same, the users being those of the dynamic security plugin.
// - mosquitto-mtls (8884): TLS with a client certificate, CONNECT answered by CONNACK 0.
// The login defaults to sluice/sluice-secret (--user, --password); the client certificate to
// client-sluice (--cert <name> takes <name>.pem and <name>.key from the certificates' folder).

import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";
import { dirname, join, resolve } from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";

const HOST = "127.0.0.1";
const TLS_DIR = join(
  process.env.SLUICE_SERVICES_HOME
    ? resolve(process.env.SLUICE_SERVICES_HOME)
    : resolve(dirname(fileURLToPath(import.meta.url)), "../../.services"),
  "tls",
);

/** Settings from the command line (login, client certificate, CA). */
const opts = {
  user: "sluice",
  password: "sluice-secret",
  cert: "client-sluice",
  ca: null,
  cqlFile: null,
};

class Conn {
  /** @param {net.Socket} socket */
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    /** @type {Error | null} */
    this.error = null;
    this.ended = false;
    /** @type {(() => void) | null} */
    this.wake = null;
    socket.on("data", (chunk) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.notify();
    });
    socket.on("error", (err) => {
      this.error = err;
      this.notify();
    });
    socket.on("close", () => {
      this.ended = true;
      this.notify();
    });
  }

  notify() {
    const wake = this.wake;
    this.wake = null;
    if (wake) wake();
  }

  /** Resolves with exactly n bytes. */
  async read(n) {
    while (this.buf.length < n) {
      if (this.error) throw this.error;
      if (this.ended) throw new Error(`connection closed after ${this.buf.length} of ${n} bytes`);
      await new Promise((resolve) => {
        this.wake = resolve;
      });
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  write(data) {
    this.socket.write(data);
  }

  close() {
    this.socket.destroy();
  }
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    socket.setNoDelay(true);
    socket.once("connect", () => resolve(new Conn(socket)));
    socket.once("error", reject);
  });
}

/** A TLS connection verified against the test CA; `clientCert` adds the client certificate. */
function connectTls(port, clientCert = false) {
  return new Promise((resolve, reject) => {
    const options = {
      host: HOST,
      port,
      ca: readFileSync(opts.ca ?? join(TLS_DIR, "ca.pem")),
      rejectUnauthorized: true,
    };
    if (clientCert) {
      options.cert = readFileSync(join(TLS_DIR, `${opts.cert}.pem`));
      options.key = readFileSync(join(TLS_DIR, `${opts.cert}.key`));
    }
    const socket = tls.connect(options);
    socket.setNoDelay(true);
    socket.once("secureConnect", () => resolve(new Conn(socket)));
    socket.once("error", (err) => reject(new Error(`TLS: ${err.code ?? err.message}`)));
  });
}

function str16(s) {
  const b = Buffer.from(s, "utf8");
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

// ---------------------------------------------------------------------------------------------
// Kafka: request = int32 size, int16 api_key, int16 api_version, int32 correlation_id,
// nullable string client_id, body; response = int32 size, int32 correlation_id, body. Only
// request and response versions without tagged fields are used.
let correlationId = 0x51c0;

async function kafkaRequest(conn, apiKey, version, body) {
  const id = ++correlationId;
  const header = Buffer.alloc(8);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(id, 4);
  const payload = Buffer.concat([header, str16("sluice-probe"), body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  conn.write(Buffer.concat([size, payload]));

  const length = (await conn.read(4)).readInt32BE(0);
  const response = await conn.read(length);
  const gotId = response.readInt32BE(0);
  if (gotId !== id) throw new Error(`correlation id ${gotId} != ${id}`);
  return response.subarray(4);
}

async function kafkaApiVersions(conn) {
  const body = await kafkaRequest(conn, 18, 0, Buffer.alloc(0));
  const errorCode = body.readInt16BE(0);
  if (errorCode !== 0) throw new Error(`ApiVersions error code ${errorCode}`);
  return body.readInt32BE(2);
}

function bytes32(buf) {
  const len = Buffer.alloc(4);
  len.writeInt32BE(buf.length);
  return Buffer.concat([len, buf]);
}

/** SaslAuthenticate v0: sends one SASL token, returns the server's. */
async function kafkaSaslToken(conn, token) {
  const body = await kafkaRequest(conn, 36, 0, bytes32(Buffer.from(token, "utf8")));
  const errorCode = body.readInt16BE(0);
  const msgLen = body.readInt16BE(2);
  const message = msgLen >= 0 ? body.toString("utf8", 4, 4 + msgLen) : "";
  if (errorCode !== 0) throw new Error(`SaslAuthenticate error code ${errorCode}: ${message}`);
  const at = 4 + Math.max(msgLen, 0);
  const tokenLen = body.readInt32BE(at);
  return body.toString("utf8", at + 4, at + 4 + tokenLen);
}

/** Client side of SCRAM-SHA-512 (RFC 5802) over SaslAuthenticate. */
async function kafkaScram(conn, user, password) {
  const hs = await kafkaRequest(conn, 17, 1, str16("SCRAM-SHA-512"));
  const hsError = hs.readInt16BE(0);
  if (hsError !== 0) throw new Error(`SaslHandshake error code ${hsError}`);

  const name = user.replaceAll("=", "=3D").replaceAll(",", "=2C");
  const clientNonce = randomBytes(18).toString("base64");
  const clientFirstBare = `n=${name},r=${clientNonce}`;
  const serverFirst = await kafkaSaslToken(conn, `n,,${clientFirstBare}`);
  const fields = Object.fromEntries(
    serverFirst.split(",").map((kv) => [kv.slice(0, 1), kv.slice(2)]),
  );
  if (!fields.r?.startsWith(clientNonce))
    throw new Error("SCRAM: server nonce does not extend ours");
  const salted = pbkdf2Sync(
    password,
    Buffer.from(fields.s, "base64"),
    Number(fields.i),
    64,
    "sha512",
  );
  const hmac = (key, data) => createHmac("sha512", key).update(data).digest();
  const clientKey = hmac(salted, "Client Key");
  const storedKey = createHash("sha512").update(clientKey).digest();
  const finalWithoutProof = `c=biws,r=${fields.r}`;
  const authMessage = `${clientFirstBare},${serverFirst},${finalWithoutProof}`;
  const signature = hmac(storedKey, authMessage);
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
  const serverFinal = await kafkaSaslToken(
    conn,
    `${finalWithoutProof},p=${proof.toString("base64")}`,
  );
  const expected = hmac(hmac(salted, "Server Key"), authMessage).toString("base64");
  if (serverFinal !== `v=${expected}`)
    throw new Error(`SCRAM: bad server signature (${serverFinal})`);
}

async function kafka() {
  const conn = await connect(9092);
  try {
    return `ApiVersions answered (${await kafkaApiVersions(conn)} APIs)`;
  } finally {
    conn.close();
  }
}

async function kafkaSasl() {
  const conn = await connectTls(9094);
  try {
    await kafkaScram(conn, opts.user, opts.password);
    const count = await kafkaApiVersions(conn);
    return `TLS, SCRAM-SHA-512 login as ${opts.user}, ApiVersions answered (${count} APIs)`;
  } finally {
    conn.close();
  }
}

async function kafkaMtls() {
  const conn = await connectTls(9095, true);
  try {
    const count = await kafkaApiVersions(conn);
    return `TLS with client certificate ${opts.cert}, ApiVersions answered (${count} APIs)`;
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Cassandra: native protocol v4 frames = version, flags, int16 stream, opcode, int32 length, body.
const CQL = {
  ERROR: 0x00,
  STARTUP: 0x01,
  READY: 0x02,
  AUTHENTICATE: 0x03,
  OPTIONS: 0x05,
  SUPPORTED: 0x06,
  QUERY: 0x07,
  RESULT: 0x08,
  AUTH_RESPONSE: 0x0f,
  AUTH_SUCCESS: 0x10,
};

class CqlReader {
  constructor(buf) {
    this.buf = buf;
    this.pos = 0;
  }
  int() {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  short() {
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  string() {
    const n = this.short();
    const v = this.buf.toString("utf8", this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  bytes() {
    const n = this.int();
    if (n < 0) return null;
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  option() {
    const id = this.short();
    // Only the simple types can appear in system.local's release_version; anything else
    // would be a custom (0x0000, string) or a collection we do not need to walk.
    if (id === 0x0000) this.string();
    return id;
  }
}

async function cqlRequest(conn, stream, opcode, body) {
  const header = Buffer.alloc(9);
  header.writeUInt8(0x04, 0);
  header.writeUInt8(0, 1);
  header.writeInt16BE(stream, 2);
  header.writeUInt8(opcode, 4);
  header.writeInt32BE(body.length, 5);
  conn.write(Buffer.concat([header, body]));

  const head = await conn.read(9);
  const length = head.readInt32BE(5);
  const respBody = await conn.read(length);
  const respOpcode = head.readUInt8(4);
  if (respOpcode === CQL.ERROR) {
    const r = new CqlReader(respBody);
    const code = r.int();
    throw new Error(`CQL error 0x${code.toString(16)}: ${r.string()}`);
  }
  return { opcode: respOpcode, body: respBody };
}

/** The login of the shared node when it asks for one: Cassandra's default superuser. */
const CASSANDRA_DEFAULT_LOGIN = { user: "cassandra", password: "cassandra" };

async function cassandra() {
  return cql(await connect(9042), CASSANDRA_DEFAULT_LOGIN);
}

async function cassandraTls() {
  return `TLS, ${await cql(await connectTls(9142), CASSANDRA_DEFAULT_LOGIN)}`;
}

async function cassandraAuth() {
  const statements =
    opts.cqlFile === null
      ? []
      : readFileSync(opts.cqlFile, "utf8")
          .split("\n")
          .map((line) => line.trim())
          .filter((line) => line !== "" && !line.startsWith("--"));
  const conn = await connectTls(9242);
  const answer = await cql(conn, { user: opts.user, password: opts.password }, statements);
  return `TLS, login ${opts.user}, ${answer}`;
}

async function cql(conn, login, statements = []) {
  try {
    const options = await cqlRequest(conn, 1, CQL.OPTIONS, Buffer.alloc(0));
    if (options.opcode !== CQL.SUPPORTED) throw new Error(`OPTIONS got opcode ${options.opcode}`);

    const map = Buffer.alloc(2);
    map.writeUInt16BE(1);
    const startup = await cqlRequest(
      conn,
      2,
      CQL.STARTUP,
      Buffer.concat([map, str16("CQL_VERSION"), str16("3.0.0")]),
    );
    if (startup.opcode === CQL.AUTHENTICATE) {
      const token = Buffer.from(`\0${login.user}\0${login.password}`, "utf8");
      const len = Buffer.alloc(4);
      len.writeInt32BE(token.length);
      const auth = await cqlRequest(conn, 3, CQL.AUTH_RESPONSE, Buffer.concat([len, token]));
      if (auth.opcode !== CQL.AUTH_SUCCESS) throw new Error(`AUTH_RESPONSE got ${auth.opcode}`);
    } else if (startup.opcode !== CQL.READY) {
      throw new Error(`STARTUP got opcode ${startup.opcode}`);
    }
    for (const statement of statements) {
      const text = Buffer.from(statement, "utf8");
      const tlen = Buffer.alloc(4);
      tlen.writeInt32BE(text.length);
      // Consistency ONE, no flags; a failed statement rejects with the server's error.
      await cqlRequest(conn, 5, CQL.QUERY, Buffer.concat([tlen, text, Buffer.from([0, 1, 0])]));
    }

    const query = Buffer.from("SELECT release_version FROM system.local", "utf8");
    const qlen = Buffer.alloc(4);
    qlen.writeInt32BE(query.length);
    const params = Buffer.from([0x00, 0x01, 0x00]); // consistency ONE, no flags
    const result = await cqlRequest(conn, 4, CQL.QUERY, Buffer.concat([qlen, query, params]));
    if (result.opcode !== CQL.RESULT) throw new Error(`QUERY got opcode ${result.opcode}`);

    const r = new CqlReader(result.body);
    const kind = r.int();
    if (kind !== 0x0002) throw new Error(`QUERY result kind ${kind}, expected Rows`);
    const flags = r.int();
    const columns = r.int();
    if (flags & 0x0002) r.bytes(); // paging state
    if (!(flags & 0x0004)) {
      const globalSpec = (flags & 0x0001) !== 0;
      if (globalSpec) {
        r.string();
        r.string();
      }
      for (let i = 0; i < columns; i++) {
        if (!globalSpec) {
          r.string();
          r.string();
        }
        r.string();
        r.option();
      }
    }
    const rows = r.int();
    if (rows < 1) throw new Error("system.local has no row yet");
    const version = r.bytes();
    return `CQL ready, release_version ${version ? version.toString("utf8") : "null"}`;
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------------------------------------
// RabbitMQ: after the protocol header the server sends a method frame on channel 0:
// type 1, int16 channel, int32 size, class 10 (connection) method 10 (start), ..., 0xCE.
async function amqpFrame(conn) {
  const head = await conn.read(7);
  if (head.toString("latin1", 0, 4) === "AMQP") {
    throw new Error("server rejected the protocol header (answered with its own)");
  }
  const type = head.readUInt8(0);
  const channel = head.readUInt16BE(1);
  const size = head.readUInt32BE(3);
  const payload = await conn.read(size + 1);
  if (payload.readUInt8(size) !== 0xce) throw new Error("frame end octet missing");
  return { type, channel, payload: payload.subarray(0, size) };
}

async function amqpStart(conn) {
  conn.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0x00, 0x00, 0x09, 0x01]));
  const { type, channel, payload } = await amqpFrame(conn);
  const classId = payload.readUInt16BE(0);
  const methodId = payload.readUInt16BE(2);
  if (type !== 1 || channel !== 0 || classId !== 10 || methodId !== 10) {
    throw new Error(`expected Connection.Start, got type ${type} class ${classId}.${methodId}`);
  }
  return `Connection.Start received (AMQP ${payload.readUInt8(4)}-${payload.readUInt8(5)})`;
}

async function rabbitmq() {
  const conn = await connect(5672);
  try {
    return await amqpStart(conn);
  } finally {
    conn.close();
  }
}

async function rabbitmqTls() {
  const conn = await connectTls(5671);
  try {
    await amqpStart(conn);
    // Connection.Start-Ok: client properties, mechanism, response, locale. The capability
    // authentication_failure_close makes a refused login answer Connection.Close 403 at once
    // (otherwise RabbitMQ closes the socket after a 3 s delay).
    const shortstr = (s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
    const table = (...entries) => bytes32(Buffer.concat(entries));
    const capabilities = table(shortstr("authentication_failure_close"), Buffer.from("t\x01"));
    const method = Buffer.concat([
      Buffer.from([0x00, 0x0a, 0x00, 0x0b]),
      table(shortstr("capabilities"), Buffer.from("F"), capabilities),
      shortstr("PLAIN"),
      bytes32(Buffer.from(`\0${opts.user}\0${opts.password}`, "utf8")),
      shortstr("en_US"),
    ]);
    const head = Buffer.alloc(7);
    head.writeUInt8(1, 0);
    head.writeUInt16BE(0, 1);
    head.writeUInt32BE(method.length, 3);
    conn.write(Buffer.concat([head, method, Buffer.from([0xce])]));
    let frame;
    try {
      frame = await amqpFrame(conn);
    } catch (err) {
      throw new Error(`login as ${opts.user} refused (${err.message})`);
    }
    const classId = frame.payload.readUInt16BE(0);
    const methodId = frame.payload.readUInt16BE(2);
    if (classId === 10 && methodId === 50) {
      const code = frame.payload.readUInt16BE(4);
      const text = frame.payload.toString("utf8", 7, 7 + frame.payload.readUInt8(6));
      throw new Error(`login as ${opts.user} refused: ${code} ${text}`);
    }
    if (classId !== 10 || methodId !== 30) {
      throw new Error(`expected Connection.Tune, got class ${classId}.${methodId}`);
    }
    return `TLS, PLAIN login as ${opts.user}, Connection.Tune received`;
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Mosquitto: MQTT 3.1.1 CONNECT with a clean session; CONNACK is 0x20 0x02 <flags> <code>.
async function mqttConnect(conn, login) {
  let flags = 0x02; // clean session
  const fields = [str16(`sluice-probe-${process.pid}-${randomBytes(3).toString("hex")}`)];
  if (login) {
    flags |= 0xc0; // user name and password
    fields.push(str16(opts.user), str16(opts.password));
  }
  const variable = Buffer.concat([str16("MQTT"), Buffer.from([0x04, flags, 0x00, 0x0a])]);
  const body = Buffer.concat([variable, ...fields]);
  const remaining = [];
  let n = body.length;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    remaining.push(digit);
  } while (n > 0);
  conn.write(Buffer.concat([Buffer.from([0x10, ...remaining]), body]));
  const connack = await conn.read(4);
  if (connack.readUInt8(0) !== 0x20 || connack.readUInt8(1) !== 0x02) {
    throw new Error(`expected CONNACK, got ${connack.toString("hex")}`);
  }
  const code = connack.readUInt8(3);
  if (code !== 0) {
    const why = { 4: "bad user name or password", 5: "not authorized" }[code] ?? "refused";
    throw new Error(`CONNACK return code ${code} (${why})`);
  }
  conn.write(Buffer.from([0xe0, 0x00])); // DISCONNECT
  return "CONNACK 0";
}

// Mosquitto: MQTT 3.1.1 CONNECT with a clean session; CONNACK is 0x20 0x02 <flags> <code>.
async function mosquitto(port = 1883) {
  const conn = await connect(port);
  try {
    return await mqttConnect(conn, false);
  } finally {
    conn.close();
  }
}

async function mosquittoTls(port = 8883) {
  const conn = await connectTls(port);
  try {
    return `TLS, login as ${opts.user}, ${await mqttConnect(conn, true)}`;
  } finally {
    conn.close();
  }
}

async function mosquittoMtls() {
  const conn = await connectTls(8884, true);
  try {
    return `TLS with client certificate ${opts.cert}, ${await mqttConnect(conn, false)}`;
  } finally {
    conn.close();
  }
}

const probes = {
  kafka,
  "kafka-sasl": kafkaSasl,
  "kafka-mtls": kafkaMtls,
  cassandra,
  "cassandra-tls": cassandraTls,
  "cassandra-auth": cassandraAuth,
  rabbitmq,
  "rabbitmq-tls": rabbitmqTls,
  mosquitto: () => mosquitto(1883),
  "mosquitto-limits": () => mosquitto(1886),
  "mosquitto-tls": () => mosquittoTls(8883),
  "mosquitto-dynsec": () => mosquittoTls(8885),
  "mosquitto-mtls": mosquittoMtls,
};

function usage(code) {
  process.stderr.write(
    `usage: probe.mjs <${Object.keys(probes).join("|")}> ... [--timeout <ms>] [--quiet]\n` +
      "       [--user <name>] [--password <secret>] [--cert <name>] [--ca <file>] [--cql-file <file>]\n",
  );
  process.exit(code);
}

const args = process.argv.slice(2);
const names = [];
let timeoutMs = 5000;
let quiet = false;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const value = () => {
    if (i + 1 >= args.length) usage(2);
    return args[++i];
  };
  if (arg === "--quiet") quiet = true;
  else if (arg === "--timeout") timeoutMs = Number(value());
  else if (arg === "--user") opts.user = value();
  else if (arg === "--password") opts.password = value();
  else if (arg === "--cert") opts.cert = value();
  else if (arg === "--ca") opts.ca = value();
  else if (arg === "--cql-file") opts.cqlFile = value();
  else if (arg === "-h" || arg === "--help") usage(0);
  else if (arg.startsWith("-")) usage(2);
  else names.push(arg);
}
if (names.length === 0 || !names.every((n) => Object.hasOwn(probes, n)) || !(timeoutMs > 0)) {
  usage(2);
}

/** One line: OpenSSL's multi-line alerts shortened to their code. */
function describe(err) {
  if (!(err instanceof Error)) return String(err);
  const code = /** @type {{ code?: unknown }} */ (err).code;
  if (typeof code === "string" && code.startsWith("ERR_SSL")) return `TLS: ${code}`;
  return err.message.split("\n")[0];
}

const pending = new Set(names);
const timer = setTimeout(() => {
  if (!quiet) {
    for (const name of pending) process.stderr.write(`${name}: no answer within ${timeoutMs} ms\n`);
  }
  process.exit(1);
}, timeoutMs);

// All named probes at once; each prints its own line.
const results = await Promise.all(
  names.map(async (name) => {
    try {
      const detail = await probes[name]();
      pending.delete(name);
      if (!quiet) process.stdout.write(`${name}: ${detail}\n`);
      return true;
    } catch (err) {
      pending.delete(name);
      if (!quiet) process.stderr.write(`${name}: ${describe(err)}\n`);
      return false;
    }
  }),
);
clearTimeout(timer);
process.exit(results.every(Boolean) ? 0 : 1);
