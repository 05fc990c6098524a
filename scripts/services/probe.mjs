#!/usr/bin/env node
// Protocol-level readiness probes for the local servers, without dependencies.
//
//   node scripts/services/probe.mjs <kafka|cassandra|rabbitmq|mosquitto> [--timeout <ms>] [--quiet]
//
// Exits 0 when the server on 127.0.0.1 answers its own protocol, 1 when it does not (the reason
// goes to stderr unless --quiet), 2 on bad usage. An open port is not enough: Cassandra and
// RabbitMQ accept connections before they can serve them.
//
// - kafka (9092):     ApiVersions v0 request (api key 18) answered with error code 0.
// - cassandra (9042): OPTIONS answered by SUPPORTED, STARTUP by READY (or AUTHENTICATE, then
//                     PLAIN cassandra/cassandra), then `SELECT release_version FROM
//                     system.local` answered with one row.
// - rabbitmq (5672):  the AMQP 0-9-1 protocol header answered by a Connection.Start frame.
// - mosquitto (1883): MQTT 3.1.1 CONNECT answered by CONNACK with return code 0.

import net from "node:net";

const HOST = "127.0.0.1";

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

function str16(s) {
  const b = Buffer.from(s, "utf8");
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

// ---------------------------------------------------------------------------------------------
// Kafka: request = int32 size, int16 api_key, int16 api_version, int32 correlation_id,
// nullable string client_id, body (empty for ApiVersions v0).
async function kafka() {
  const conn = await connect(9092);
  try {
    const correlationId = 0x51c1;
    const header = Buffer.alloc(8);
    header.writeInt16BE(18, 0); // ApiVersions
    header.writeInt16BE(0, 2); // version 0
    header.writeInt32BE(correlationId, 4);
    const payload = Buffer.concat([header, str16("sluice-probe")]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    conn.write(Buffer.concat([size, payload]));

    const length = (await conn.read(4)).readInt32BE(0);
    const body = await conn.read(length);
    const gotId = body.readInt32BE(0);
    if (gotId !== correlationId) throw new Error(`correlation id ${gotId} != ${correlationId}`);
    const errorCode = body.readInt16BE(4);
    if (errorCode !== 0) throw new Error(`ApiVersions error code ${errorCode}`);
    const count = body.readInt32BE(6);
    return `ApiVersions answered (${count} APIs)`;
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

async function cassandra() {
  const conn = await connect(9042);
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
      const token = Buffer.from("\0cassandra\0cassandra", "utf8");
      const len = Buffer.alloc(4);
      len.writeInt32BE(token.length);
      const auth = await cqlRequest(conn, 3, CQL.AUTH_RESPONSE, Buffer.concat([len, token]));
      if (auth.opcode !== CQL.AUTH_SUCCESS) throw new Error(`AUTH_RESPONSE got ${auth.opcode}`);
    } else if (startup.opcode !== CQL.READY) {
      throw new Error(`STARTUP got opcode ${startup.opcode}`);
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
async function rabbitmq() {
  const conn = await connect(5672);
  try {
    conn.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0x00, 0x00, 0x09, 0x01]));
    const head = await conn.read(7);
    if (head.toString("latin1", 0, 4) === "AMQP") {
      throw new Error("server rejected the protocol header (answered with its own)");
    }
    const type = head.readUInt8(0);
    const channel = head.readUInt16BE(1);
    const size = head.readUInt32BE(3);
    const payload = await conn.read(size + 1);
    const classId = payload.readUInt16BE(0);
    const methodId = payload.readUInt16BE(2);
    if (type !== 1 || channel !== 0 || classId !== 10 || methodId !== 10) {
      throw new Error(`expected Connection.Start, got type ${type} class ${classId}.${methodId}`);
    }
    if (payload.readUInt8(size) !== 0xce) throw new Error("frame end octet missing");
    return `Connection.Start received (AMQP ${payload.readUInt8(4)}-${payload.readUInt8(5)})`;
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Mosquitto: MQTT 3.1.1 CONNECT with a clean session; CONNACK is 0x20 0x02 <flags> <code>.
async function mosquitto() {
  const conn = await connect(1883);
  try {
    const variable = Buffer.concat([
      str16("MQTT"),
      Buffer.from([0x04, 0x02, 0x00, 0x0a]), // level 4, clean session, keep-alive 10 s
    ]);
    const payload = str16(`sluice-probe-${process.pid}`);
    const remaining = variable.length + payload.length; // < 128: one length byte
    conn.write(Buffer.concat([Buffer.from([0x10, remaining]), variable, payload]));
    const connack = await conn.read(4);
    if (connack.readUInt8(0) !== 0x20 || connack.readUInt8(1) !== 0x02) {
      throw new Error(`expected CONNACK, got ${connack.toString("hex")}`);
    }
    const code = connack.readUInt8(3);
    if (code !== 0) throw new Error(`CONNACK return code ${code}`);
    conn.write(Buffer.from([0xe0, 0x00])); // DISCONNECT
    return "CONNACK 0";
  } finally {
    conn.close();
  }
}

const probes = { kafka, cassandra, rabbitmq, mosquitto };

function usage(code) {
  process.stderr.write(
    `usage: probe.mjs <${Object.keys(probes).join("|")}> [--timeout <ms>] [--quiet]\n`,
  );
  process.exit(code);
}

const args = process.argv.slice(2);
let name = null;
let timeoutMs = 5000;
let quiet = false;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === "--quiet") quiet = true;
  else if (arg === "--timeout") timeoutMs = Number(args[++i]);
  else if (arg === "-h" || arg === "--help") usage(0);
  else if (name === null) name = arg;
  else usage(2);
}
if (name === null || !Object.hasOwn(probes, name) || !(timeoutMs > 0)) usage(2);

const timer = setTimeout(() => {
  if (!quiet) process.stderr.write(`${name}: no answer within ${timeoutMs} ms\n`);
  process.exit(1);
}, timeoutMs);

try {
  const detail = await probes[name]();
  clearTimeout(timer);
  if (!quiet) process.stdout.write(`${name}: ${detail}\n`);
  process.exit(0);
} catch (err) {
  clearTimeout(timer);
  if (!quiet) process.stderr.write(`${name}: ${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
}
