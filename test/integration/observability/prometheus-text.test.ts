import { describe, expect, it } from "vitest";
import { parsePrometheusText, sampleValue } from "./prometheus-text.js";

describe("the strict Prometheus text parser the metrics tests use", () => {
  it("reads families, labels with escapes, and histograms", () => {
    const families = parsePrometheusText(
      [
        "# HELP jobs_total Jobs done.",
        "# TYPE jobs_total counter",
        'jobs_total{source="a\\"b",app="x"} 3',
        "# TYPE delay_seconds histogram",
        'delay_seconds_bucket{le="0.5"} 1',
        'delay_seconds_bucket{le="+Inf"} 2',
        "delay_seconds_sum 1.25",
        "delay_seconds_count 2",
        "",
      ].join("\n"),
    );
    expect(families.get("jobs_total")?.help).toBe("Jobs done.");
    expect(sampleValue(families, "jobs_total", { source: 'a"b' })).toBe(3);
    expect(families.get("delay_seconds")?.samples).toHaveLength(4);
    expect(sampleValue(families, "delay_seconds_count")).toBe(2);
  });

  it.each([
    ["a sample with no value", "# TYPE x counter\nx\n"],
    ["a bad metric name", "# TYPE 1x counter\n1x 1\n"],
    ["a bad escape", '# TYPE x counter\nx{a="\\t"} 1\n'],
    ["a TYPE after samples", "x 1\n# TYPE x counter\n"],
    ["a family split in two", '# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a="1"} 2\n'],
    ["the same series twice", "# TYPE x gauge\nx 1\nx 2\n"],
    ["no final newline", "# TYPE x gauge\nx 1"],
    [
      "a histogram whose count differs from +Inf",
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
    ],
    [
      "buckets that are not cumulative",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    ],
  ])("rejects %s", (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
