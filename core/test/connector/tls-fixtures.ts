// PEM material for tests of the `tls` settings without the servers: a test CA, a client
// certificate it signed and that certificate's key (EC P-256, made once with openssl, valid until
// 2126), and keys made on the fly with node:crypto. Test material only: nothing here is secret.
import { createPrivateKey, generateKeyPairSync } from "node:crypto";

/** The test CA's certificate ("CN=Sluice unit test CA"). */
export const TEST_CA = `-----BEGIN CERTIFICATE-----
MIIB2jCCAYGgAwIBAgIUMzyq9fM6wZt/gI8kXT8DvJzujR0wCgYIKoZIzj0EAwIw
OjEaMBgGA1UECgwRU2x1aWNlIHVuaXQgdGVzdHMxHDAaBgNVBAMME1NsdWljZSB1
bml0IHRlc3QgQ0EwIBcNMjYxMjA2MTYyNTUxWhgPMjEyNjExMTIxNjI1NTFaMDox
GjAYBgNVBAoMEVNsdWljZSB1bml0IHRlc3RzMRwwGgYDVQQDDBNTbHVpY2UgdW5p
dCB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEspKRrcmEaWx0OdUd
uSy6rn0vS0owpfyVc8uKDTvzBzA/dRgLqHavZGkPkdKGkacU9CWXjenvABCwr5/l
pK4IY6NjMGEwHQYDVR0OBBYEFGbUZGLUzUtP/vyEPGNqx48BVnWgMB8GA1UdIwQY
MBaAFGbUZGLUzUtP/vyEPGNqx48BVnWgMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0P
AQH/BAQDAgEGMAoGCCqGSM49BAMCA0cAMEQCIAHtbdfUhfopd4SeJ1PMheDuFFe/
/3bE1WYjUoxQ3zaEAiA9ulq4RGdirNtLhSV3MGMWpdpjn2Toi3TmZ05Banuhug==
-----END CERTIFICATE-----
`;

/** A client certificate ("CN=unit-client") signed by `TEST_CA`. */
export const CLIENT_CERT = `-----BEGIN CERTIFICATE-----
MIIB5jCCAYugAwIBAgIUDT6LaiFhM2UYl4w9WWdzS86h3M8wCgYIKoZIzj0EAwIw
OjEaMBgGA1UECgwRU2x1aWNlIHVuaXQgdGVzdHMxHDAaBgNVBAMME1NsdWljZSB1
bml0IHRlc3QgQ0EwIBcNMjYxMjA2MTYyNTUxWhgPMjEyNjExMTIxNjI1NTFaMDIx
GjAYBgNVBAoMEVNsdWljZSB1bml0IHRlc3RzMRQwEgYDVQQDDAt1bml0LWNsaWVu
dDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABO0yRcd9ICpMoVwK4YukWa1lGXpf
TgcROg823RHx5HpD5n4kv53cmKLGNRMO7yszzhsgjqKD+nV7Nf5c4RwMst2jdTBz
MAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUF
BwMCMB0GA1UdDgQWBBQsned0CDTMJzoSMbmjk/dcqinP/zAfBgNVHSMEGDAWgBRm
1GRi1M1LT/78hDxjasePAVZ1oDAKBggqhkjOPQQDAgNJADBGAiEA8C8vAIjwBMx8
gQ2URIUgPzXnDIsmQ8+rL3pMm8SU+AMCIQDqNxnadXM0RUniXG5l2Vi//ucQ28ld
fPu/Ly/DIoxzKQ==
-----END CERTIFICATE-----
`;

/** The private key of `CLIENT_CERT` (PKCS#8, unencrypted). */
export const CLIENT_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg8nZjFep/synsBnL/
laz2X0dQv0KxshgdMoPtAQKJW1yhRANCAATtMkXHfSAqTKFcCuGLpFmtZRl6X04H
EToPNt0R8eR6Q+Z+JL+d3JiixjUTDu8rM84bII6ig/p1ezX+XOEcDLLd
-----END PRIVATE KEY-----
`;

/** The passphrase `encryptedClientKey` encrypts `CLIENT_KEY` with. */
export const KEY_PASSPHRASE = "unit-test-passphrase-4b1e";

/**
 * `CLIENT_KEY` encrypted with `KEY_PASSPHRASE`: as PKCS#8 ("ENCRYPTED PRIVATE KEY") or in
 * OpenSSL's traditional form ("EC PRIVATE KEY" with a Proc-Type header).
 *
 * @example
 * const tls = { cert: CLIENT_CERT, key: encryptedClientKey("pkcs8"), passphrase: KEY_PASSPHRASE };
 */
export function encryptedClientKey(form: "pkcs8" | "sec1"): string {
  const key = createPrivateKey(CLIENT_KEY);
  return String(
    key.export({ type: form, format: "pem", cipher: "aes-256-cbc", passphrase: KEY_PASSPHRASE }),
  );
}

/**
 * A fresh EC private key (PKCS#8 PEM) that belongs to no certificate here.
 *
 * @example
 * const tls = { cert: CLIENT_CERT, key: otherKey() }; // the key does not match
 */
export function otherKey(): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return String(privateKey.export({ type: "pkcs8", format: "pem" }));
}

/**
 * The public key of a fresh EC pair, as PEM ("PUBLIC KEY").
 *
 * @example
 * const tls = { cert: CLIENT_CERT, key: publicKey() }; // not a private key
 */
export function publicKey(): string {
  const { publicKey: key } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return String(key.export({ type: "spki", format: "pem" }));
}
