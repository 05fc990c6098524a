// The stop's grace against the local broker: a job stopped without draining while its RabbitMQ
// sink waits for publisher confirms that are on their way (a loopback proxy holds the broker's
// answers, then lets them through once the stop has begun) finishes the batch in progress
// within `interruptAfter`, every record in the queue once, instead of failing it.
import { describe, expect, it } from "vitest";
import { rabbitmqSink } from "../../../connectors/rabbitmq/src/index.js";
import { CuttableProxy } from "../../support/cuttable-proxy.js";
import { firstBatchWritten } from "../../support/queued-job.js";
import { until } from "../../support/until.js";
import { drain, HOST, PORT } from "./broker.js";
import { useLockedBroker } from "./locked-broker.js";

const broker = useLockedBroker();

describe("a stop without draining while the RabbitMQ sink's confirms are on their way", () => {
  it("finishes the batch in progress when they arrive within interruptAfter", async () => {
    const queue = await broker.newQueue("sluice-stop-grace");
    const proxy = await CuttableProxy.start(PORT, HOST);
    broker.afterTest(() => proxy.close());
    const { ctx, clock, outcomes } = await firstBatchWritten(
      "rabbitmq-stop-grace",
      rabbitmqSink,
      "rabbitmq",
      {
        url: `amqp://guest:guest@${proxy.address}`,
        exchange: "",
        routingKey: queue,
        heartbeatSeconds: 0,
      },
      (stop) => broker.afterTest(stop),
    );

    proxy.holdAnswers();
    clock.advance(1000);
    // The second batch's publishes reached the broker; its confirms wait in the proxy.
    await proxy.until((counts) => counts.held >= 1);
    const stopped = ctx.stop({ interruptAfter: "60s" });
    // The stop has begun to finish the batch in progress (or, without a grace, already ended it).
    await until(
      () =>
        ctx.unfinishedWork()[0] === "stop: finishing the batch in progress" || outcomes.length > 1,
      30_000,
      "the stop reaching the batch in progress",
    );
    // Still waiting for its confirms, within the grace.
    expect(outcomes).toEqual(["1000 written"]);
    proxy.releaseAnswers();
    await stopped;
    expect(ctx.state).toBe("STOPPED");
    expect(outcomes).toEqual(["1000 written", "2000 written"]);
    expect(await drain(broker.channel(), queue)).toEqual(["1-a", "1-b", "2-a", "2-b"]);
  }, 120_000);
});
