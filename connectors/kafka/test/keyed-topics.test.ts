import type { Admin } from "kafkajs";
import { describe, expect, it } from "vitest";
import {
  checkKeyedValueSize,
  ensureKeyedTopics,
  MAX_RECORD_BYTES,
  MAX_VALUE_BYTES,
} from "../src/keyed/keyed-topics.js";

function protocolError(type: string): Error {
  return Object.assign(new Error(type), { type });
}

describe("ensureKeyedTopics", () => {
  it("waits for topics another process created at the same time to become known", async () => {
    let unknownAnswers = 0;
    const admin = {
      listTopics: async () => [],
      // Another process of the job created the topic first, and is still waiting for its leaders.
      createTopics: async () => {
        throw Object.assign(new Error("Topic creation errors"), {
          errors: [protocolError("TOPIC_ALREADY_EXISTS")],
        });
      },
      fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
        if (unknownAnswers < 4) {
          unknownAnswers++;
          throw protocolError("UNKNOWN_TOPIC_OR_PARTITION");
        }
        return {
          topics: topics.map((name) => ({ name, partitions: [{}, {}, {}, {}] })),
        };
      },
    } as unknown as Admin;
    const topics = await ensureKeyedTopics(admin, "wc", 4);
    expect(topics).toEqual({
      repartition: "wc.sluice-repartition",
      changelog: "wc.sluice-changelog",
    });
    expect(unknownAnswers).toBe(4);
  });

  it("still refuses a topic with another partition count", async () => {
    const admin = {
      listTopics: async () => ["wc.sluice-repartition", "wc.sluice-changelog"],
      fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
        topics: topics.map((name) => ({ name, partitions: [{}, {}] })),
      }),
    } as unknown as Admin;
    await expect(ensureKeyedTopics(admin, "wc", 4)).rejects.toMatchObject({
      code: "SLUICE_INVALID_CONFIG",
    });
  });
});

describe("checkKeyedValueSize", () => {
  it("lets a value of up to MAX_VALUE_BYTES through, within the topics' max.message.bytes", () => {
    expect(MAX_VALUE_BYTES).toBeLessThan(MAX_RECORD_BYTES);
    expect(() => checkKeyedValueSize(MAX_VALUE_BYTES, "the state", "Do less.")).not.toThrow();
  });

  it("refuses a larger one with a typed error saying what, how large, and what to do", () => {
    let error: unknown;
    try {
      checkKeyedValueSize(MAX_VALUE_BYTES + 1, "Keyed partition 3's state", "Use more partitions.");
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toMatchObject({ code: "SLUICE_INVALID_CONFIG" });
    const message = (error as Error).message;
    expect(message).toContain(`Keyed partition 3's state takes ${MAX_VALUE_BYTES + 1} bytes`);
    expect(message).toContain(`max.message.bytes is ${MAX_RECORD_BYTES}`);
    expect(message).toMatch(/Use more partitions\.$/);
  });
});
