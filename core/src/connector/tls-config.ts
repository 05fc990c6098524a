import { z } from "zod";
import { secret } from "./secret.js";
import { tlsMaterialProblems } from "./tls-material.js";

/**
 * TLS settings passed through to Node's `tls.connect`; PEM text, not file names. Shared by the
 * connectors so every one of them accepts (and redacts) the same fields, and refuses the same
 * bad PEM text when the config is validated, before anything connects (`tlsMaterialProblems`):
 * a `SLUICE_INVALID_CONFIG` naming `tls.key`, `tls.cert`, `tls.ca` or `tls.passphrase`.
 *
 * @example
 * const fields = { tls: z.union([z.boolean(), tlsConfig]).optional() };
 */
export const tlsConfig = z
  .strictObject({
    ca: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe("PEM text of the CA certificates to trust (default: Node's bundled CAs)"),
    cert: z.string().min(1).optional().describe("PEM text of the client certificate"),
    key: secret(z.string().min(1)).optional().describe("PEM text of the client certificate's key"),
    passphrase: secret(z.string()).optional().describe("the passphrase of the key"),
    servername: z.string().min(1).optional().describe("the server name checked in its certificate"),
    rejectUnauthorized: z
      .boolean()
      .default(true)
      .describe("false accepts any server certificate (tests only)"),
  })
  .superRefine((tls, context) => {
    for (const { path, message } of tlsMaterialProblems(tls)) {
      context.addIssue({ code: "custom", path: [...path], message });
    }
  });

/** TLS settings after validation, with defaults filled in. */
export type TlsConfig = z.output<typeof tlsConfig>;
