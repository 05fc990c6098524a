// Sluice's conformance kit for sinks: batches in order, replays overwrite (idempotence),
// reconnect, close while writing, invalid config.
import { describeSinkConformance } from "sluice/testing/conformance";
import { invalidSinkConfig, sinkFixture } from "./fixtures.js";

describeSinkConformance("skeleton sink", sinkFixture, {
  invalidConfig: invalidSinkConfig,
});
