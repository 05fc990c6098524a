// The CLI's progress points to the UI: once when it starts, and on the status line of every batch.
import type { BatchInfo } from "sluice";
import { describe, expect, it } from "vitest";
import { ProgressReporter } from "../../../core/src/cli/progress-reporter.js";

const batch: BatchInfo = {
  batchTime: 1000,
  streamIdToInputInfo: new Map([[0, { inputStreamId: 0, numRecords: 4 }]]),
  numRecords: 4,
  submissionTime: 1000,
  processingStartTime: 1000,
  processingEndTime: 1010,
  schedulingDelay: 0,
  processingDelay: 10,
  totalDelay: 10,
  outputOperationInfos: new Map(),
};

function collect(): { write(text: string): void; text: () => string } {
  let text = "";
  return {
    write: (more) => {
      text += more;
    },
    text: () => text,
  };
}

describe("progress with the UI on", () => {
  it("the status line ends with the UI's address", () => {
    const output = collect();
    const reporter = new ProgressReporter("status-line", 1000, output);
    reporter.showAddress("http://127.0.0.1:4040/", false);
    expect(output.text()).toBe(
      "UI at http://127.0.0.1:4040/ (metrics at http://127.0.0.1:4040/metrics)\n",
    );
    reporter.onBatchCompleted(batch);
    expect(output.text().split("\r\x1b[K").at(-1)).toMatch(
      /records in 4 out 0 \| UI http:\/\/127\.0\.0\.1:4040\/$/,
    );
  });

  it("JSON progress announces the address as an event of its own", () => {
    const output = collect();
    new ProgressReporter("json", 1000, output).showAddress("http://127.0.0.1:9464/", true);
    expect(JSON.parse(output.text())).toEqual({
      event: "metrics",
      url: "http://127.0.0.1:9464/metrics",
    });
  });
});
