// The prototypes of the values v8.serialize gives back as they were. A class instance is not
// refused by v8 but comes back as a plain object without its methods, so it counts as unclonable.
const KEPT_PROTOTYPES: ReadonlySet<object | null> = new Set<object | null>([
  null,
  Object.prototype,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  Boolean.prototype,
  Number.prototype,
  String.prototype,
  BigInt.prototype,
  Error.prototype,
  EvalError.prototype,
  RangeError.prototype,
  ReferenceError.prototype,
  SyntaxError.prototype,
  TypeError.prototype,
  URIError.prototype,
]);

/**
 * What in `value` would not come back the same from `v8.serialize` / `v8.deserialize` (a
 * function, a symbol, a class instance, a WeakMap, ...) and where, or `undefined` when all of it
 * would: plain objects, arrays, strings, numbers, bigints, booleans, `undefined`, `null`, Maps,
 * Sets, Dates, RegExps, errors, ArrayBuffers and typed arrays.
 *
 * @example
 * describeUnclonable({ id: 1, onDone: () => {} }); // "a function at .onDone"
 */
export function describeUnclonable(value: unknown): string | undefined {
  return visit(value, "", new Set());
}

function visit(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (typeof value === "function") return `a function${at(path)}`;
  if (typeof value === "symbol") return `a symbol${at(path)}`;
  if (typeof value !== "object" || value === null) return undefined;
  // v8 keeps shared and circular references; each object is looked at once.
  if (seen.has(value)) return undefined;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return undefined;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!KEPT_PROTOTYPES.has(prototype as object | null) && !Array.isArray(value)) {
    return `${instanceName(prototype)}${at(path)}`;
  }
  if (value instanceof Map) {
    let index = 0;
    for (const [key, entry] of value) {
      const found =
        visit(key, `${path}<Map key ${index}>`, seen) ??
        visit(entry, `${path}<Map value ${index}>`, seen);
      if (found !== undefined) return found;
      index++;
    }
    return undefined;
  }
  if (value instanceof Set) {
    let index = 0;
    for (const entry of value) {
      const found = visit(entry, `${path}<Set entry ${index}>`, seen);
      if (found !== undefined) return found;
      index++;
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = visit(value[index], `${path}[${index}]`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const found = visit((value as Record<string, unknown>)[key], `${path}.${key}`, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

function instanceName(prototype: unknown): string {
  const maker = (prototype as { constructor?: { name?: unknown } } | null)?.constructor;
  const name = maker?.name;
  return typeof name === "string" && name !== ""
    ? `an instance of ${name}`
    : "an object of a class";
}

function at(path: string): string {
  return path === "" ? "" : ` at ${path}`;
}
