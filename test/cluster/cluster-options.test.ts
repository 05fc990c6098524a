// The cluster option's checks and the `--cluster` flag, without servers.

import { ClusterMember, StreamingContext } from "sluice";
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../../core/src/cli/parse-args.js";
import { clusterOfRun } from "../../core/src/cluster/cluster-flag.js";
import { resolveClusterOptions } from "../../core/src/cluster/cluster-options.js";

describe("cluster options", () => {
  it("resolves a group and brokers, choosing a process id unique to this process", () => {
    const problems: string[] = [];
    const first = resolveClusterOptions(
      { kafka: { brokers: ["127.0.0.1:9092"] }, group: "word-count" },
      problems,
    );
    const second = resolveClusterOptions(
      { kafka: { brokers: ["127.0.0.1:9092"] }, group: "word-count" },
      problems,
    );
    expect(problems).toEqual([]);
    expect(first?.group).toBe("word-count");
    expect(first?.processId).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(first?.processId).not.toBe(second?.processId);
  });

  it("lists every problem of bad options in the context's error", () => {
    expect(
      () =>
        new StreamingContext({
          batchInterval: "1s",
          cluster: { kafka: { brokers: ["no-port"] }, group: "has space" },
        }),
    ).toThrow(/cluster\.group must be the job's id.*cluster\.kafka\.brokers must list/s);
  });

  it("refuses to start an inline job that keeps state across batches, naming the operators and saying how to run it", async () => {
    const cluster = { kafka: { brokers: ["127.0.0.1:9092"] }, group: "wc", processId: "p1" };
    const stateful = new StreamingContext({ batchInterval: "1s", cluster });
    const pairs = stateful.queueStream<[string, number]>([]);
    pairs.reduceByKey((a, b) => a + b).print();
    pairs.reduceByKeyAndWindow("sum", "3s").print();
    pairs
      .updateStateByKey(
        (values: number[], state: number | undefined) => (state ?? 0) + values.length,
      )
      .print();
    expect(() => stateful.start()).toThrow(
      expect.objectContaining({
        code: "SLUICE_INVALID_CONFIG",
        message: expect.stringMatching(
          /NamedWindowedDStream\(sum\) \(stream \d+\), StateDStream.*defineJob.*sluice run --cluster/,
        ),
      }),
    );
    // Per-batch aggregations start.
    const perBatch = new StreamingContext({ batchInterval: "1s", cluster });
    perBatch
      .queueStream<[string, number]>([])
      .reduceByKey((a, b) => a + b)
      .print();
    await perBatch.start();
    await perBatch.stop();
  });

  it("gives the context a member whose partitions follow what its sources report", () => {
    const ctx = new StreamingContext({
      batchInterval: "1s",
      cluster: { kafka: { brokers: ["127.0.0.1:9092"] }, group: "wc", processId: "p1" },
    });
    const member = ctx.cluster;
    expect(member).toBeInstanceOf(ClusterMember);
    const seen: string[][] = [];
    member?.onPartitions((partitions) => seen.push([...partitions]));
    member?.reportPartitions("source:kafka#1", ["in-3", "in-0"]);
    member?.reportPartitions("source:kafka#2", ["other-1"]);
    member?.reportPartitions("source:kafka#1", []);
    expect(seen).toEqual([["in-0", "in-3"], ["in-0", "in-3", "other-1"], ["other-1"]]);
    expect(new StreamingContext({ batchInterval: "1s" }).cluster).toBeUndefined();
  });
});

describe("--cluster", () => {
  it("is a flag of sluice run", () => {
    const command = parseCommandLine(["run", "job.ts", "--cluster", "wc@127.0.0.1:9092"]);
    expect(command.command === "run" && command.flags.cluster).toBe("wc@127.0.0.1:9092");
  });

  it("takes the group and the brokers after @, keeping the config file's other settings", () => {
    expect(
      clusterOfRun("wc@10.0.0.1:9092,10.0.0.2:9092", {
        kafka: { brokers: ["old:9092"], tls: true },
        group: "old",
        processId: "p7",
      }),
    ).toEqual({
      group: "wc",
      processId: "p7",
      kafka: { brokers: ["10.0.0.1:9092", "10.0.0.2:9092"], tls: true },
    });
  });

  it("takes the brokers from the config file when the flag names only the group", () => {
    expect(clusterOfRun("wc", { kafka: { brokers: ["k:9092"] }, group: "old" })).toEqual({
      group: "wc",
      kafka: { brokers: ["k:9092"] },
    });
  });

  it("refuses a group without brokers, saying where to give them", () => {
    expect(() => clusterOfRun("wc", undefined)).toThrow(/--cluster wc@host:port/);
  });

  it("is absent when neither the flag nor the file asks for a cluster", () => {
    expect(clusterOfRun(undefined, undefined)).toBeUndefined();
  });
});
