// Sluice's conformance kit for sources: connect, read, acknowledge, nack, restart, seek,
// reconnect, pause, end of input, invalid config. Every connector must pass it.
import { describeSourceConformance } from "sluice/testing/conformance";
import { invalidSourceConfig, sourceFixture } from "./fixtures.js";

describeSourceConformance("skeleton source", sourceFixture, {
  invalidConfig: invalidSourceConfig,
});
