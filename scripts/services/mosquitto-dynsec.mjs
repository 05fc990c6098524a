#!/usr/bin/env node
// Writes the configuration of Mosquitto's dynamic security plugin for the listener 8885:
//   node scripts/services/mosquitto-dynsec.mjs <file>
// The same users and rights as the ACL file of 8883/8884 (sluice: everything; limited: read and
// write public/#, read sensors/#), but as dynamic-security roles, which the broker checks when a
// client subscribes: a denied subscription gets SUBACK 0x87 (not authorized), whereas the ACL
// file grants every subscription and only withholds the messages. Passwords are hashed as the
// plugin expects: PBKDF2-SHA512, 12 random bytes of salt, base64.
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write("usage: mosquitto-dynsec.mjs <file>\n");
  process.exit(2);
}
const ITERATIONS = 101;

function client(username, password, rolename) {
  const salt = randomBytes(12);
  return {
    username,
    textName: username,
    password: pbkdf2Sync(password, salt, ITERATIONS, 64, "sha512").toString("base64"),
    salt: salt.toString("base64"),
    iterations: ITERATIONS,
    roles: [{ rolename }],
  };
}

/** An ACL entry allowing `acltype` (send, receive or subscribe) for `topic`. */
const allow = (acltype, topic) => ({ acltype, topic, priority: 0, allow: true });

const config = {
  // Anything no role allows is denied, except receiving (delivery follows the subscription).
  defaultACLAccess: {
    publishClientSend: false,
    publishClientReceive: true,
    subscribe: false,
    unsubscribe: true,
  },
  clients: [
    client("sluice", "sluice-secret", "everything"),
    client("limited", "limited-secret", "limited"),
  ],
  groups: [],
  roles: [
    {
      rolename: "everything",
      acls: [
        allow("publishClientSend", "#"),
        allow("publishClientReceive", "#"),
        allow("subscribePattern", "#"),
      ],
    },
    {
      rolename: "limited",
      acls: [
        allow("publishClientSend", "public/#"),
        allow("publishClientReceive", "public/#"),
        allow("subscribePattern", "public/#"),
        allow("publishClientReceive", "sensors/#"),
        allow("subscribePattern", "sensors/#"),
      ],
    },
  ],
};
writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
