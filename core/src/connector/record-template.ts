import type { SinkRecord } from "./records.js";

/** One piece of a parsed template: literal text or a value taken from the record. */
type TemplatePart =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "key" }
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "json"; readonly path: readonly string[] };

const PLACEHOLDER = /^(key|header\.[^{}]+|json(\.[A-Za-z0-9_$-]+)+)$/;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The placeholders a template may use, for error messages and docs. */
export const TEMPLATE_PLACEHOLDERS =
  "{key} (the record key), {header.NAME} (a record header), {json.a.b} (a field of the JSON value); {{ and }} are literal braces";

/**
 * A string built from each record, such as the routing key `"orders.{key}"`. Parsed once; a
 * record that lacks what the template needs is reported by `render` with the reason.
 *
 * @example
 * const template = RecordTemplate.parse("orders.{header.region}.{key}");
 * template.render({ value, key: encoder.encode("42"), headers: { region: encoder.encode("eu") } }); // "orders.eu.42"
 */
export class RecordTemplate {
  readonly source: string;
  readonly #parts: readonly TemplatePart[];
  readonly #usesJson: boolean;

  private constructor(source: string, parts: readonly TemplatePart[]) {
    this.source = source;
    this.#parts = parts;
    this.#usesJson = parts.some((part) => part.kind === "json");
  }

  /**
   * Parses `source`, or throws an `Error` whose message says what is wrong with it.
   *
   * @example
   * RecordTemplate.parse("sensors/{key}/out");
   */
  static parse(source: string): RecordTemplate {
    const parts: TemplatePart[] = [];
    let text = "";
    for (let index = 0; index < source.length; index++) {
      const char = source[index];
      const next = source[index + 1];
      if ((char === "{" && next === "{") || (char === "}" && next === "}")) {
        text += char;
        index++;
        continue;
      }
      if (char === "}") {
        throw new Error(
          `a "}" at position ${index} closes nothing (write "}}" for a literal brace)`,
        );
      }
      if (char !== "{") {
        text += char;
        continue;
      }
      const end = source.indexOf("}", index);
      if (end < 0) throw new Error(`the "{" at position ${index} is never closed`);
      const name = source.slice(index + 1, end);
      if (!PLACEHOLDER.test(name)) {
        throw new Error(`unknown placeholder {${name}}; use ${TEMPLATE_PLACEHOLDERS}`);
      }
      if (text !== "") parts.push({ kind: "text", text });
      text = "";
      parts.push(placeholder(name));
      index = end;
    }
    if (text !== "") parts.push({ kind: "text", text });
    return new RecordTemplate(source, parts);
  }

  /**
   * What is wrong with `source` as a template, or `undefined` when it parses.
   *
   * @example
   * RecordTemplate.problem("a.{nope}"); // "unknown placeholder {nope}; ..."
   */
  static problem(source: string): string | undefined {
    try {
      RecordTemplate.parse(source);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** True when the template is plain text, the same for every record. */
  get constant(): boolean {
    return this.#parts.every((part) => part.kind === "text");
  }

  /**
   * The string for `record`; throws an `Error` naming what the record lacks.
   *
   * @example
   * template.render(record);
   */
  render(record: SinkRecord): string {
    let json: unknown;
    if (this.#usesJson) json = parseJson(record.value);
    let out = "";
    for (const part of this.#parts) {
      switch (part.kind) {
        case "text":
          out += part.text;
          break;
        case "key":
          if (record.key === undefined)
            throw new Error("{key} needs a record key, but it has none");
          out += utf8(record.key, "the record key");
          break;
        case "header": {
          const value = record.headers?.[part.name];
          if (value === undefined) {
            throw new Error(
              `{header.${part.name}} needs the header "${part.name}", but it is missing`,
            );
          }
          out += utf8(value, `the header "${part.name}"`);
          break;
        }
        case "json":
          out += jsonField(json, part.path);
          break;
      }
    }
    return out;
  }
}

function placeholder(name: string): TemplatePart {
  if (name === "key") return { kind: "key" };
  if (name.startsWith("header.")) return { kind: "header", name: name.slice("header.".length) };
  return { kind: "json", path: name.split(".").slice(1) };
}

function utf8(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new Error(`${what} is not valid UTF-8`);
  }
}

function parseJson(value: Uint8Array): unknown {
  try {
    return JSON.parse(utf8(value, "the value"));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`{json...} needs a JSON value, but it does not parse: ${reason}`);
  }
}

function jsonField(json: unknown, path: readonly string[]): string {
  let current = json;
  for (const segment of path) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, segment)) {
      throw new Error(`{json.${path.join(".")}} is missing from the JSON value`);
    }
    current = (current as Record<string, unknown>)[segment];
  }
  if (typeof current === "string") return current;
  if (typeof current === "number" || typeof current === "boolean") return String(current);
  throw new Error(`{json.${path.join(".")}} must be a string, number or boolean in the JSON value`);
}
