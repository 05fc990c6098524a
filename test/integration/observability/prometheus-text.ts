// A small, strict parser of Prometheus' text exposition format (version 0.0.4), for tests that
// scrape /metrics: it rejects what a Prometheus server would reject (bad names, bad escapes,
// samples before their TYPE, a family split in two, duplicate series) and checks that each
// histogram's buckets are cumulative and end in +Inf equal to its _count.

/** One sample line: a series and its value. */
export interface PrometheusSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: its TYPE, HELP and samples, in the order written. */
export interface PrometheusFamily {
  readonly name: string;
  readonly type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  readonly help: string | undefined;
  readonly samples: PrometheusSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/**
 * Parses an exposition; throws naming the line on the first thing that is not valid.
 *
 * @example
 * parsePrometheusText("# TYPE x counter\nx 1\n").get("x")?.samples[0]?.value; // 1
 */
export function parsePrometheusText(text: string): Map<string, PrometheusFamily> {
  const families = new Map<string, PrometheusFamily>();
  const finished = new Set<string>();
  const seenSeries = new Set<string>();
  let current: PrometheusFamily | undefined;
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  for (const [index, line] of lines.entries()) {
    const where = `line ${index + 1} (${JSON.stringify(line)})`;
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const match = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (match === null) continue; // a plain comment
      const [, keyword, name = "", rest = ""] = match;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
      const family = familyOf(name);
      if (keyword === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}"`);
        if (family.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
        if (family.type !== "untyped") throw new Error(`${where}: second TYPE`);
        (family as { type: string }).type = rest;
      } else {
        if (family.help !== undefined) throw new Error(`${where}: second HELP`);
        (family as { help: string | undefined }).help = unescapeText(rest, false, where);
      }
      continue;
    }
    const sample = parseSample(line, where);
    const family = familyOf(familyNameOf(sample.name, families));
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seenSeries.has(key)) throw new Error(`${where}: the same series twice`);
    seenSeries.add(key);
    family.samples.push(sample);
  }
  for (const family of families.values()) {
    if (family.type === "histogram") checkHistogram(family);
  }
  return families;

  function familyOf(name: string): PrometheusFamily {
    let family = families.get(name);
    if (family === undefined) {
      if (finished.has(name)) throw new Error(`the family ${name} is split in two`);
      family = { name, type: "untyped", help: undefined, samples: [] };
      families.set(name, family);
    }
    if (current !== family) {
      if (current !== undefined) finished.add(current.name);
      if (finished.has(name)) throw new Error(`the family ${name} is split in two`);
      current = family;
    }
    return family;
  }
}

/**
 * The value of the one sample named `name` whose labels include `labels`; throws when there is
 * none or more than one.
 *
 * @example
 * sampleValue(families, "sluice_input_records_total", { source: "socket" });
 */
export function sampleValue(
  families: ReadonlyMap<string, PrometheusFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const matches: PrometheusSample[] = [];
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) {
        matches.push(sample);
      }
    }
  }
  const [only, ...others] = matches;
  if (only === undefined || others.length > 0) {
    throw new Error(
      `expected one sample ${name}${JSON.stringify(labels)}, found ${matches.length}`,
    );
  }
  return only.value;
}

function familyNameOf(sampleName: string, families: ReadonlyMap<string, PrometheusFamily>): string {
  for (const suffix of ["_bucket", "_count", "_sum"]) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === "histogram" || (type === "summary" && suffix !== "_bucket")) return base;
  }
  return sampleName;
}

function parseSample(line: string, where: string): PrometheusSample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (nameMatch === null) throw new Error(`${where}: no metric name`);
  const name = nameMatch[0];
  let position = name.length;
  const labels: Record<string, string> = {};
  if (line[position] === "{") {
    position++;
    while (line[position] !== "}") {
      const labelMatch = /^\s*([^=\s]+)\s*=\s*"/.exec(line.slice(position));
      if (labelMatch === null) throw new Error(`${where}: bad label at ${position}`);
      const labelName = labelMatch[1] ?? "";
      if (!LABEL_NAME.test(labelName)) throw new Error(`${where}: bad label name ${labelName}`);
      if (labelName in labels) throw new Error(`${where}: label ${labelName} twice`);
      position += labelMatch[0].length;
      let raw = "";
      while (line[position] !== '"') {
        if (position >= line.length) throw new Error(`${where}: unterminated label value`);
        if (line[position] === "\\") {
          raw += line.slice(position, position + 2);
          position += 2;
        } else {
          raw += line[position];
          position++;
        }
      }
      position++;
      labels[labelName] = unescapeText(raw, true, where);
      const after = /^\s*(,\s*)?/.exec(line.slice(position));
      position += after?.[0].length ?? 0;
      if (after?.[1] === undefined && line[position] !== "}") {
        throw new Error(`${where}: expected , or } after a label`);
      }
    }
    position++;
  }
  const rest = line.slice(position);
  const valueMatch = /^ +(\S+)(?: +(-?\d+))?$/.exec(rest);
  if (valueMatch === null) throw new Error(`${where}: expected " value [timestamp]"`);
  return { name, labels, value: parseValue(valueMatch[1] ?? "", where) };
}

function parseValue(text: string, where: string): number {
  // Prometheus reads values with Go's ParseFloat: Inf, Infinity and NaN in any case.
  const special = text.toLowerCase();
  if (["inf", "+inf", "infinity", "+infinity"].includes(special)) return Number.POSITIVE_INFINITY;
  if (["-inf", "-infinity"].includes(special)) return Number.NEGATIVE_INFINITY;
  if (special === "nan") return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new Error(`${where}: bad value ${text}`);
  }
  return Number(text);
}

function unescapeText(raw: string, quoted: boolean, where: string): string {
  return raw.replace(/\\(.)/g, (_, escaped: string) => {
    if (escaped === "\\") return "\\";
    if (escaped === "n") return "\n";
    if (escaped === '"' && quoted) return '"';
    throw new Error(`${where}: bad escape \\${escaped}`);
  });
}

function checkHistogram(family: PrometheusFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      group.buckets.push([parseValue(le, `${family.name} le`), sample.value]);
    } else if (sample.name === `${family.name}_count`) {
      group.count = sample.value;
    }
  }
  for (const [key, group] of groups) {
    const last = group.buckets.at(-1);
    if (last === undefined || last[0] !== Number.POSITIVE_INFINITY) {
      throw new Error(`${family.name}${key}: the last bucket is not +Inf`);
    }
    for (let i = 1; i < group.buckets.length; i++) {
      const [previousLe, previousCount] = group.buckets[i - 1] ?? [0, 0];
      const [le, count] = group.buckets[i] ?? [0, 0];
      if (le <= previousLe) throw new Error(`${family.name}${key}: le not increasing`);
      if (count < previousCount) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    if (group.count !== last[1]) {
      throw new Error(
        `${family.name}${key}: _count ${group.count} differs from the +Inf bucket ${last[1]}`,
      );
    }
  }
}
