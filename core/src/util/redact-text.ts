import { secretValues } from "./secret-values.js";

/** What a secret value is replaced with wherever config is shown. */
export const REDACTED = "[redacted]";

// A PEM block (key, certificate, anything armoured), also one cut off before its END line, and
// also with its line breaks escaped as `\n` inside JSON text.
const PEM_BLOCK =
  /-----BEGIN ([A-Z0-9 ]{1,64})-----(?:(?!-----BEGIN )[\s\S])*?(?:-----END [A-Z0-9 ]{1,64}-----|$)/g;

// The user-info of the examples in schema descriptions and hints ("amqp://user:password@host"):
// kept, so a hint stays readable after the message holding it is redacted.
const PLACEHOLDER_USER_INFO: ReadonlySet<string> = new Set(["user:password", "username:password"]);

// What separates words in free text: a URL in a message is bounded by spaces or quotes.
const WORD = /[^\s"'`<>]+/g;

/**
 * `text` with every secret in it replaced: PEM blocks, the user-info part of anything shaped
 * like a URL (`scheme://user:password@host`, also with a misspelt scheme such as `amqp//…`,
 * a password holding `@`, or no scheme at all: `user:password@host`), and every value
 * registered with `registerSecretValue` (those from `${env:…}` and `${file:…}` references).
 * For log lines, error messages and anything else printed.
 *
 * @example
 * redactText("connect amqp://app:x@pw@broker:5672 failed");
 * // "connect amqp://[redacted]@broker:5672 failed"
 */
export function redactText(text: string): string {
  return redactKnownValues(redactPem(text)).replace(WORD, redactUserInfo);
}

/**
 * `redactText` for one config value: the whole value is taken as one URL when it has `//`
 * before an `@`, so a password holding spaces or quotes is hidden too.
 *
 * @example
 * redactConfigString("amqp://app:pass word@host"); // "amqp://[redacted]@host"
 */
export function redactConfigString(value: string): string {
  const text = redactKnownValues(redactPem(value));
  const slashes = text.indexOf("//");
  if (slashes >= 0 && text.lastIndexOf("@") > slashes) return redactUserInfo(text);
  return text.replace(WORD, redactUserInfo);
}

function redactPem(text: string): string {
  if (!text.includes("-----BEGIN ")) return text;
  return text.replace(PEM_BLOCK, (_block, label: string) => {
    return `-----BEGIN ${label}-----${REDACTED}-----END ${label}-----`;
  });
}

function redactKnownValues(text: string): string {
  let redacted = text;
  for (const value of secretValues()) {
    if (redacted.includes(value)) redacted = redacted.replaceAll(value, REDACTED);
  }
  return redacted;
}

/**
 * Hides the user-info of one word: everything from `//` (or the word's start, when a `:` comes
 * before the `@`) up to the last `@`. The last one, since a password may hold `@`
 * (`amqp://app:x@pw@host` has the password `x@pw`); a path holding `@` is hidden too, which
 * costs a little of the message and never a secret.
 */
function redactUserInfo(word: string): string {
  const at = word.lastIndexOf("@");
  if (at < 0) return word;
  const slashes = word.indexOf("//");
  if (slashes >= 0 && slashes < at) {
    const start = slashes + 2;
    const userInfo = word.slice(start, at);
    if (userInfo === REDACTED || PLACEHOLDER_USER_INFO.has(userInfo)) return word;
    return `${word.slice(0, start)}${REDACTED}${word.slice(at)}`;
  }
  const userInfo = word.slice(0, at);
  if (!userInfo.includes(":") || userInfo === REDACTED || PLACEHOLDER_USER_INFO.has(userInfo)) {
    return word;
  }
  return `${REDACTED}${word.slice(at)}`;
}
