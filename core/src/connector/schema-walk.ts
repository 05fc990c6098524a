import { z } from "zod";

/** A zod schema of any flavour (classic or mini, any copy of zod 4). */
export type AnySchema = z.core.$ZodType;

/** The parts of zod's schema definitions the walk needs; zod 4 keeps them in `_zod.def`. */
interface SchemaDef {
  readonly type: string;
  readonly shape?: Readonly<Record<string, AnySchema>>;
  readonly catchall?: AnySchema;
  readonly innerType?: AnySchema;
  readonly element?: AnySchema;
  readonly valueType?: AnySchema;
  readonly options?: readonly AnySchema[];
  readonly items?: readonly AnySchema[];
  readonly rest?: AnySchema | null;
  readonly left?: AnySchema;
  readonly right?: AnySchema;
  readonly in?: AnySchema;
  readonly out?: AnySchema;
  readonly getter?: () => AnySchema;
}

const WRAPPERS = new Set([
  "optional",
  "nullable",
  "default",
  "prefault",
  "catch",
  "readonly",
  "nonoptional",
  "success",
]);

function defOf(schema: AnySchema): SchemaDef {
  return schema._zod.def as unknown as SchemaDef;
}

/**
 * The schema and every schema it wraps (`.optional()`, `.default()`, pipes, lazies, ...):
 * a mark such as `secret()` or a description may sit on any of these layers.
 */
export function schemaLayers(schema: AnySchema): AnySchema[] {
  const layers: AnySchema[] = [];
  const pending: AnySchema[] = [schema];
  while (pending.length > 0 && layers.length < 64) {
    const current = pending.pop() as AnySchema;
    if (layers.includes(current)) continue;
    layers.push(current);
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType) pending.push(def.innerType);
    else if (def.type === "lazy" && def.getter) pending.push(def.getter());
    else if (def.type === "pipe") {
      if (def.out) pending.push(def.out);
      if (def.in) pending.push(def.in);
    }
  }
  return layers;
}

/**
 * The schemas that may describe the child `key` of a value described by `schemas` (several
 * when unions are involved; none when the schema says nothing about that child).
 */
export function childSchemas(schemas: readonly AnySchema[], key: string | number): AnySchema[] {
  const children: AnySchema[] = [];
  const visit = (schema: AnySchema): void => {
    for (const layer of schemaLayers(schema)) {
      const def = defOf(layer);
      switch (def.type) {
        case "object": {
          const field = typeof key === "string" ? def.shape?.[key] : undefined;
          if (field) children.push(field);
          else if (def.catchall) children.push(def.catchall);
          break;
        }
        case "record":
          if (def.valueType) children.push(def.valueType);
          break;
        case "array":
        case "set":
          if (def.element) children.push(def.element);
          break;
        case "tuple": {
          const item = typeof key === "number" ? def.items?.[key] : undefined;
          if (item) children.push(item);
          else if (def.rest) children.push(def.rest);
          break;
        }
        case "union":
          for (const option of def.options ?? []) visit(option);
          break;
        case "intersection":
          if (def.left) visit(def.left);
          if (def.right) visit(def.right);
          break;
      }
    }
  };
  for (const schema of schemas) visit(schema);
  return children;
}

/** The schemas describing the value at `path` under `schema`. */
export function schemasAtPath(schema: AnySchema, path: readonly PropertyKey[]): AnySchema[] {
  let schemas: AnySchema[] = [schema];
  for (const segment of path) {
    if (typeof segment === "symbol") return [];
    schemas = childSchemas(schemas, segment);
    if (schemas.length === 0) return [];
  }
  return schemas;
}

/** The field names an object schema knows, for "did you mean" hints. */
export function knownFieldNames(schemas: readonly AnySchema[]): string[] {
  const names = new Set<string>();
  for (const schema of schemas) {
    for (const layer of schemaLayers(schema)) {
      const def = defOf(layer);
      if (def.type === "object") for (const name of Object.keys(def.shape ?? {})) names.add(name);
      if (def.type === "union") {
        for (const name of knownFieldNames(def.options ?? [])) names.add(name);
      }
    }
  }
  return [...names];
}

/** The first description (`.describe()` / `.meta({ description })`) on any layer. */
export function descriptionOf(schemas: readonly AnySchema[]): string | undefined {
  for (const schema of schemas) {
    for (const layer of schemaLayers(schema)) {
      const description = z.globalRegistry.get(layer)?.description;
      if (typeof description === "string" && description.length > 0) return description;
    }
  }
  return undefined;
}
