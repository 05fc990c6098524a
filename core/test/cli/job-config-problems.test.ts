// How `sluice run` and `sluice check` name a setting of the job config (a config file or --set)
// that is wrong: a misspelt name gets the one meant, a bad duration says once what to write.
import { describe, expect, it } from "vitest";
import { validateJobConfig } from "../../src/cli/job-config.js";
import { main } from "../../src/cli/main.js";
import { captureIo } from "./capture-io.js";

describe("job config problems", () => {
  it("names a misspelt top-level setting with the one meant", () => {
    const { config, problems } = validateJobConfig({ chekpoint: "/var/lib/job", appName: "a" });
    expect(config).toBeUndefined();
    expect(problems).toEqual([
      'chekpoint: unknown setting. Did you mean "checkpoint"? A job\'s own settings go under job.',
    ]);
  });

  it("names a misspelt nested setting by its path", () => {
    const { problems } = validateJobConfig({ ui: { port: 4040, hots: "0.0.0.0" } });
    expect(problems).toEqual(['ui.hots: unknown setting. Did you mean "host"?']);
  });

  it("lists the settings there are for a name like none of them", () => {
    const { problems } = validateJobConfig({ threshold: 40 });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^threshold: unknown setting\. .*appName, master, batchInterval/);
    expect(problems[0]).toContain("go under job");
  });

  it("says once how to write a duration", () => {
    const { problems } = validateJobConfig({ batchInterval: "2 seconds" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^batchInterval: cannot read duration "2 seconds"/);
    expect(problems[0]?.match(/"500ms"/g)).toHaveLength(1);
  });

  it("refuses local[0] as master: no thread would run the job", () => {
    expect(validateJobConfig({ master: "local[0]" }).problems).toHaveLength(1);
    expect(validateJobConfig({ master: "local[12]" }).problems).toEqual([]);
  });
});

describe("--master", () => {
  it.each(["locl[2]", "local[0]", "local[two]"])(
    "refuses %s as a usage error naming the flag, before loading the job",
    async (master) => {
      const io = captureIo();
      const code = await main(["run", "no-such-job.ts", "--master", master], io);
      expect(io.err()).toContain(`--master takes "local", "local[N]"`);
      expect(io.err()).toContain(`got "${master}"`);
      expect(code).toBe(2);
    },
  );
});
