import { secret } from "sluice";
import { defineSource, REDACTED } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeConnector } from "../../src/cli/connectors-command.js";

describe("sluice connectors", () => {
  it("shows no credential in the defaults it lists", () => {
    const plugin = defineSource({
      name: "defaults",
      version: "0.1.0",
      config: z.strictObject({
        url: z.string().default("amqp://guest:default-pw-5e1b@localhost:5672"),
        authToken: z.string().default("default-token-93fa"),
        password: secret(z.string()).default("default-secret-4c20"),
        prefetch: z.int().default(10),
      }),
      capabilities: { replayable: false },
      create: () => {
        throw new Error("not created here");
      },
    });
    const options = describeConnector(plugin, "test").options;
    const shown = JSON.stringify(options);
    for (const value of ["default-pw-5e1b", "default-token-93fa", "default-secret-4c20"]) {
      expect(shown).not.toContain(value);
    }
    const defaults = Object.fromEntries(options.map((option) => [option.name, option.default]));
    expect(defaults).toEqual({
      url: `amqp://${REDACTED}@localhost:5672`,
      authToken: REDACTED,
      password: undefined,
      prefetch: 10,
    });
  });
});
