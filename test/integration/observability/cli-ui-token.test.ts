// `sluice run --ui` off loopback: without a token the job refuses to start; with one, the UI
// answers only requests that carry it.
import { afterEach, describe, expect, it } from "vitest";
import { runSluice, SluiceProcess } from "../../samples/sluice-process.js";
import { announcedUrl, LineServer, observedJob } from "./observed-run.js";

const running: { sluice?: SluiceProcess; lines?: LineServer } = {};
afterEach(async () => {
  running.sluice?.kill();
  await running.lines?.close();
});

function jobArgs(lines: LineServer, ui: string): string[] {
  return [
    "run",
    observedJob("socket-lines.ts"),
    "--batch",
    "200ms",
    "--ui",
    ui,
    "--json",
    "--set",
    "job.host=127.0.0.1",
    "--set",
    `job.port=${lines.port}`,
  ];
}

// Each test starts `sluice run` (tsx compiles the job first): generous on a loaded machine; the
// waits inside are on conditions, this only ends a test that would hang.
const PROCESS_TEST_TIMEOUT_MS = 180_000;

describe("sluice run --ui on a non-loopback address", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it("refuses to start the job without a token, saying how to set one", async () => {
    const lines = await LineServer.start();
    running.lines = lines;
    const exit = await runSluice(jobArgs(lines, "0.0.0.0:0"), 60_000, { SLUICE_UI_TOKEN: "" });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toMatch(/^sluice: ui\.host is 0\.0\.0\.0, which other machines can reach/m);
    expect(exit.stderr).toContain("SLUICE_UI_TOKEN");
    expect(exit.stderr).not.toContain('"event":"batchCompleted"');
    expect(exit.stdout).toBe("");
    // The job never started: its source never connected.
    expect(lines.connections).toBe(0);
  });

  it("starts with a token, and its UI answers only requests that carry it", async () => {
    const token = "a-token-of-32-characters-0123456";
    const lines = await LineServer.start();
    running.lines = lines;
    const sluice = new SluiceProcess(jobArgs(lines, "0.0.0.0:0"), { SLUICE_UI_TOKEN: token });
    running.sluice = sluice;
    const announced = await announcedUrl(sluice);
    expect(announced).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/$/);
    expect(announced).not.toContain(token);
    const local = announced.replace("0.0.0.0", "127.0.0.1");
    expect((await fetch(`${local}metrics`)).status).toBe(401);
    expect((await fetch(`${local}api/job`)).status).toBe(401);
    const authorized = await fetch(`${local}metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(authorized.status).toBe(200);
    expect(await authorized.text()).toContain("sluice_batch_processing_seconds");
    const exit = await sluice.stop();
    expect(exit.code).toBe(0);
  });
});
