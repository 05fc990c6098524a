import { z } from "zod";
import type { ConnectorPlugin } from "../connector/plugin.js";
import { redactConfig } from "../connector/redact.js";
import {
  type AnySchema,
  childSchemas,
  descriptionOf,
  knownFieldNames,
  schemaLayers,
} from "../connector/schema-walk.js";
import { isSecret } from "../connector/secret.js";
import { builtinConnectors } from "../connectors/builtins.js";
import { importPluginPackage } from "../plugins/plugin-loader.js";
import { CliError } from "./cli-error.js";
import type { CommonFlags } from "./parse-args.js";
import { type CliIo, loadValidConfig } from "./run-command.js";

/** One config option of a connector, as `sluice connectors` lists it. */
export interface ConnectorOption {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly secret: boolean;
  /** The value used when the option is left out; absent when it has none (or is secret). */
  readonly default?: unknown;
  readonly description: string | undefined;
}

/** A connector as `sluice connectors` lists it. */
export interface ConnectorListing {
  readonly kind: "source" | "sink";
  readonly name: string;
  readonly version: string;
  readonly from: string;
  readonly description: string | undefined;
  readonly options: readonly ConnectorOption[];
}

/**
 * `sluice connectors`: the built-in connectors and those of the config's `plugins`, with their
 * config options and defaults; secret options are marked.
 *
 * @example
 * process.exitCode = await connectorsCommand(flags, io);
 */
export async function connectorsCommand(flags: CommonFlags, io: CliIo): Promise<number> {
  const config = await loadValidConfig(flags);
  const listings: ConnectorListing[] = builtinConnectors().map((plugin) =>
    describeConnector(plugin, "built-in"),
  );
  for (const name of config.plugins ?? []) {
    let plugins: ConnectorPlugin[];
    try {
      plugins = await importPluginPackage(name, process.cwd());
    } catch (error) {
      throw new CliError(error instanceof Error ? error.message : String(error), 2, {
        cause: error,
      });
    }
    listings.push(...plugins.map((plugin) => describeConnector(plugin, name)));
  }
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(listings, null, 2)}\n`);
    return 0;
  }
  for (const listing of listings) {
    io.stdout.write(
      `${listing.kind} ${listing.name} ${listing.version} (${listing.from})${listing.description ? ` — ${listing.description}` : ""}\n`,
    );
    for (const option of listing.options) {
      const flagsText = [
        option.required ? "required" : "optional",
        option.secret ? "secret" : "",
        "default" in option ? `default ${JSON.stringify(option.default)}` : "",
      ]
        .filter(Boolean)
        .join(", ");
      io.stdout.write(
        `  ${option.name}: ${option.type} (${flagsText})${option.description ? ` — ${option.description}` : ""}\n`,
      );
    }
  }
  return 0;
}

/**
 * Lists a plugin's config options from its zod schema.
 *
 * @example
 * describeConnector(fileSource, "built-in").options.map((option) => option.name);
 */
export function describeConnector(plugin: ConnectorPlugin, from: string): ConnectorListing {
  const schema = plugin.config as AnySchema;
  const jsonSchema = safeJsonSchema(plugin.config);
  const required = new Set(jsonSchema.required ?? []);
  const options = knownFieldNames([schema]).map((name): ConnectorOption => {
    const field = childSchemas([schema], name);
    const node = jsonSchema.properties?.[name];
    const secret = field.some((candidate) => schemaLayers(candidate).some(isSecret));
    return {
      name,
      type: typeName(node),
      required: required.has(name),
      secret,
      // A secret's default is a credential too: it is never printed; other defaults go through
      // the same redaction as a config (a URL's user-info, a field named like a credential).
      ...(node !== undefined && "default" in node && !secret
        ? { default: shownDefault(schema, name, node.default) }
        : {}),
      description: descriptionOf(field),
    };
  });
  return {
    kind: plugin.kind,
    name: plugin.name,
    version: plugin.version,
    from,
    description: plugin.description,
    options,
  };
}

function shownDefault(schema: AnySchema, name: string, value: unknown): unknown {
  return (redactConfig(schema, { [name]: value }) as Record<string, unknown>)[name];
}

interface JsonSchemaNode {
  readonly type?: string | readonly string[];
  readonly default?: unknown;
  readonly anyOf?: readonly JsonSchemaNode[];
  readonly enum?: readonly unknown[];
  readonly items?: JsonSchemaNode;
  readonly properties?: Readonly<Record<string, JsonSchemaNode>>;
  readonly required?: readonly string[];
}

function safeJsonSchema(schema: z.ZodType): JsonSchemaNode {
  try {
    return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchemaNode;
  } catch {
    return {};
  }
}

function typeName(node: JsonSchemaNode | undefined): string {
  if (node === undefined) return "any";
  if (node.enum !== undefined) return node.enum.map((value) => JSON.stringify(value)).join(" | ");
  if (node.anyOf !== undefined) return node.anyOf.map(typeName).join(" | ");
  if (node.type === "array") return `${typeName(node.items)}[]`;
  if (Array.isArray(node.type)) return node.type.join(" | ");
  return typeof node.type === "string" ? node.type : "any";
}
