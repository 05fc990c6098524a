// What the test tells a broker group member (test/cluster/support/broker-member-job.ts), as JSON
// in BROKER_MEMBER.

/** The MQTT user property carrying each message's unique id. */
export const EVENT_ID_PROPERTY = "event-id";

/** The file sink's prefix in each member's output folder. */
export const OUTPUT_PREFIX = "events";

/** Where a member reads from. */
export type BrokerMemberSource =
  | {
      readonly kind: "mqtt";
      readonly url: string;
      /** The member's own client id: the broker keeps its session under it. */
      readonly clientId: string;
      /** `$share/<group>/<topic>`. */
      readonly filter: string;
    }
  | {
      readonly kind: "rabbitmq";
      readonly url: string;
      readonly queue: string;
      readonly prefetch: number;
    };

/** One member's settings. */
export interface BrokerMemberSettings {
  /** A name for logs and the app name ("a", "b"). */
  readonly member: string;
  readonly source: BrokerMemberSource;
  /** The member's own checkpoint folder. */
  readonly checkpoint: string;
  /** The member's own output folder (file sink, one JSON line per message). */
  readonly output: string;
  readonly batchIntervalMs: number;
  /** Records per second at most. */
  readonly maxRate: number;
  /** Sluice's log level in the member (on stderr, shown when a test fails); default "warn". */
  readonly logLevel?: string;
}
