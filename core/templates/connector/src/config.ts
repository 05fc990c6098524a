import { z } from "zod";

/** The source's settings: every field described, defaults in the schema. */
export const SkeletonSourceConfig = z.strictObject({
  url: z.string().startsWith("memory://").describe("where the system is, e.g. memory://orders"),
  group: z
    .string()
    .min(1)
    .default("sluice")
    .describe("the consumer group whose committed position a first run starts from"),
  maxRecordsPerRead: z
    .int()
    .min(1)
    .max(100_000)
    .default(500)
    .describe("at most this many records per read"),
});

/** The source's parsed settings. */
export type SkeletonSourceConfig = z.output<typeof SkeletonSourceConfig>;

/** The sink's settings. */
export const SkeletonSinkConfig = z.strictObject({
  url: z.string().startsWith("memory://").describe("where the system is, e.g. memory://orders"),
});

/** The sink's parsed settings. */
export type SkeletonSinkConfig = z.output<typeof SkeletonSinkConfig>;
