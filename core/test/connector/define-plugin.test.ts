import {
  defineSink,
  defineSource,
  isConnectorPlugin,
  SluiceError,
  type Source,
} from "sluice/connector";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const create = (): Source => {
  throw new Error("not used");
};

describe("defineSource / defineSink", () => {
  it("returns a frozen, recognisable plugin", () => {
    const plugin = defineSource({
      name: "@acme/ticks",
      version: "1.0.0",
      config: z.object({ everyMs: z.int().positive() }),
      capabilities: { replayable: false },
      create,
    });
    expect(plugin.kind).toBe("source");
    expect(plugin.sluicePlugin).toBe(1);
    expect(Object.isFrozen(plugin)).toBe(true);
    expect(isConnectorPlugin(plugin)).toBe(true);
  });

  it("checks the declaration at once and lists every problem", () => {
    let error: unknown;
    try {
      defineSink({
        name: "Audit Log",
        version: "",
        config: { parse: () => ({}) } as never,
        capabilities: {} as never,
        create: () => ({}) as never,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SluiceError);
    const { code, message } = error as SluiceError;
    expect(code).toBe("SLUICE_PLUGIN_INVALID");
    expect(message).toContain('The sink plugin "Audit Log" is not well-formed');
    expect(message).toContain("name must be lowercase letters");
    expect(message).toContain("version must be a non-empty string");
    expect(message).toContain("config must be a zod 4 schema");
    expect(message).toContain("capabilities.idempotent must be true or false");
  });
});
