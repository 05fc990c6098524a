/**
 * What is wrong with `filter` as an MQTT topic filter, or `undefined` when it is valid: `+`
 * must fill a whole level, `#` must be the whole last level; shared subscriptions
 * (`$share/<group>/<filter>`) are allowed.
 *
 * @example
 * topicFilterProblem("sensors/+/temp"); // undefined
 * topicFilterProblem("sensors/#/temp"); // '"#" must be the last level ...'
 */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return "a topic filter cannot be empty";
  if (filter.includes("\u0000")) return "a topic filter cannot contain the NUL character";
  let levels = filter.split("/");
  if (levels[0] === "$share") {
    if (levels.length < 3 || levels[1] === "" || /[+#]/.test(levels[1] ?? "")) {
      return 'a shared subscription is "$share/<group>/<filter>", with a group name free of + and #';
    }
    levels = levels.slice(2);
  }
  for (const [index, level] of levels.entries()) {
    if (level.includes("#") && (level !== "#" || index !== levels.length - 1)) {
      return `"#" must be the last level on its own, as in "sensors/#" (in "${filter}")`;
    }
    if (level.includes("+") && level !== "+") {
      return `"+" must fill a whole level, as in "sensors/+/temp" (in "${filter}")`;
    }
  }
  return undefined;
}

/**
 * What is wrong with `topic` as a topic to publish to, or `undefined` when it is valid.
 *
 * @example
 * topicNameProblem("sensors/7/out"); // undefined
 */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.length === 0) return "the topic is empty";
  if (/[+#]/.test(topic)) return `the topic "${topic}" contains a wildcard (+ or #)`;
  if (topic.includes("\u0000")) return `the topic contains the NUL character`;
  if (Buffer.byteLength(topic) > 65_535) return "the topic is longer than 65535 bytes";
  return undefined;
}

/**
 * True when the sink's `topic` setting gives every record the same topic: a template without a
 * placeholder (`{{` and `}}` are literal braces). A refusal of such a topic is the sink's, not a
 * record's.
 *
 * @example
 * isFixedTopic("alerts/out"); // true
 * isFixedTopic("sensors/{key}/out"); // false
 */
export function isFixedTopic(setting: string | ((...args: never[]) => unknown)): boolean {
  return typeof setting === "string" && !setting.replace(/\{\{|\}\}/g, "").includes("{");
}
