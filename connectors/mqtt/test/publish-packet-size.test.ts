// The sink checks a message against the broker's maximum packet size before publishing it: the
// size it computes must be the one mqtt.js's packet really has.
import fc from "fast-check";
import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { publishPacketBytes } from "../src/publish-packet-size.js";

const text = fc.string({ maxLength: 40, unit: "grapheme" });

describe("publishPacketBytes", () => {
  it("is the length of the PUBLISH packet mqtt.js generates, whatever its topic, properties and payload", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 60, unit: "grapheme" }),
        fc.oneof(
          fc.integer({ min: 0, max: 300 }),
          fc.constantFrom(127, 128, 16_383, 16_384, 2_100_000),
        ),
        fc.constantFrom(0, 1, 2),
        fc.option(
          // The sink gives no user properties rather than none of them (mqtt-packet refuses {}).
          fc.dictionary(text, fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 3 })), {
            minKeys: 1,
          }),
          { nil: undefined },
        ),
        fc.option(text, { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }),
        (topic, payloadBytes, qos, userProperties, contentType, messageExpiryInterval) => {
          const properties = {
            ...(userProperties === undefined ? {} : { userProperties }),
            ...(contentType === undefined ? {} : { contentType }),
            ...(messageExpiryInterval === undefined ? {} : { messageExpiryInterval }),
          };
          const options = {
            qos: qos as 0 | 1 | 2,
            ...(Object.keys(properties).length > 0 ? { properties } : {}),
          };
          const packet = mqttPacket.generate(
            {
              cmd: "publish",
              topic,
              payload: Buffer.alloc(payloadBytes),
              qos: qos as 0 | 1 | 2,
              retain: false,
              dup: false,
              ...(qos > 0 ? { messageId: 1 } : {}),
              ...(Object.keys(properties).length > 0 ? { properties } : {}),
            },
            { protocolVersion: 5 },
          );
          expect(publishPacketBytes(topic, payloadBytes, options)).toBe(packet.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
