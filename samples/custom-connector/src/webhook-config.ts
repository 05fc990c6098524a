import { secret } from "sluice/connector";
import { z } from "zod";

/**
 * The webhook source's config. `z.strictObject` turns a misspelt field into an error instead
 * of a silently ignored setting; `.describe()` texts become the hints users see when a field
 * is wrong; `secret()` keeps the token out of every log line and error message.
 */
export const webhookConfig = z.strictObject({
  host: z.string().min(1).default("127.0.0.1").describe("the interface to listen on"),
  port: z.int().min(0).max(65_535).describe("the TCP port to listen on; 0 picks a free one"),
  path: z
    .string()
    .startsWith("/")
    .default("/")
    .describe("the URL path senders POST to, e.g. /hooks/orders"),
  token: secret(z.string().min(16))
    .optional()
    .describe("when set, requests must carry `Authorization: Bearer <token>`"),
  maxBodyBytes: z
    .int()
    .min(1)
    .default(1024 * 1024)
    .describe("larger request bodies are refused with 413"),
  maxPendingRequests: z
    .int()
    .min(1)
    .default(1_000)
    .describe("requests held open at once; beyond that senders get 503 and retry"),
  maxRecordsPerRead: z.int().min(1).default(500).describe("at most this many records per read"),
  retryAfterSeconds: z.int().min(0).default(1).describe("the Retry-After sent with 503 answers"),
});

/** The parsed config the source receives. */
export type WebhookConfig = z.output<typeof webhookConfig>;
