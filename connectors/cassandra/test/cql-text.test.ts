import { validateConfig } from "sluice";
import { describe, expect, it } from "vitest";
import { canonicalCqlType } from "../src/cql-types.js";
import { qualifiedTable, quoteName } from "../src/identifiers.js";
import { createKeyspaceCql, createTableCql, upsertCql } from "../src/schema.js";
import { cassandraSinkConfig } from "../src/sink-config.js";

const base = { contactPoints: ["127.0.0.1:9042"], keyspace: "shop", table: "orders" };

describe("CQL names", () => {
  it("quotes valid names as given, so case and reserved words survive", () => {
    expect(quoteName("Select", "column")).toBe('"Select"');
    expect(qualifiedTable("shop", "Orders")).toBe('"shop"."Orders"');
  });

  it("refuses anything that is not a plain name", () => {
    for (const name of ['a"b', "a b", "a;", "1a", "", "a-b", "é", "x".repeat(49)]) {
      expect(() => quoteName(name, "table")).toThrow(/not a valid Cassandra table name/);
    }
    expect(quoteName("c".repeat(128), "column")).toHaveLength(130);
  });
});

describe("CQL types", () => {
  it("canonicalises native and collection types", () => {
    expect(canonicalCqlType("TEXT")).toBe("text");
    expect(canonicalCqlType("Map<text,FROZEN<list<int>>>")).toBe("map<text, frozen<list<int>>>");
    expect(canonicalCqlType("tuple<int, text, uuid>")).toBe("tuple<int, text, uuid>");
  });

  it("refuses anything else", () => {
    for (const type of [
      "text); DROP TABLE x",
      "counter",
      "map<text>",
      "list<int, int>",
      "mytype",
      "list<int",
      "int8",
      "",
    ]) {
      expect(canonicalCqlType(type)).toBeUndefined();
    }
  });
});

describe("statements", () => {
  it("builds the keyspace, table and upsert statements from checked parts only", () => {
    const config = validateConfig(
      cassandraSinkConfig,
      {
        ...base,
        schema: {
          columns: { region: "TEXT", id: "bigint", tags: "set<text>" },
          partitionKey: ["region"],
          clusteringKey: ["id"],
        },
      },
      "sink",
    );
    const schema = config.schema;
    if (schema === undefined) throw new Error("schema expected");
    expect(createKeyspaceCql("shop", schema)).toBe(
      `CREATE KEYSPACE IF NOT EXISTS "shop" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    expect(createTableCql("shop", "orders", schema)).toBe(
      'CREATE TABLE IF NOT EXISTS "shop"."orders" ("region" text, "id" bigint, "tags" set<text>, PRIMARY KEY (("region"), "id"))',
    );
    expect(upsertCql("shop", "orders", ["region", "id"], true)).toBe(
      'INSERT INTO "shop"."orders" ("region", "id") VALUES (?, ?) USING TIMESTAMP ?',
    );
  });

  it("takes data centre replication", () => {
    const config = validateConfig(
      cassandraSinkConfig,
      {
        ...base,
        schema: {
          columns: { id: "int" },
          partitionKey: ["id"],
          replication: { class: "NetworkTopologyStrategy", dataCenters: { dc1: 3, dc2: 2 } },
        },
      },
      "sink",
    );
    if (config.schema === undefined) throw new Error("schema expected");
    expect(createKeyspaceCql("shop", config.schema)).toContain(
      "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}",
    );
  });

  it("refuses key columns and mapped columns the schema does not declare", () => {
    let issues: { path: string }[] = [];
    try {
      validateConfig(
        cassandraSinkConfig,
        {
          ...base,
          columns: { other: "x" },
          schema: { columns: { id: "int" }, partitionKey: ["id", "nope"], clusteringKey: ["also"] },
        },
        "sink",
      );
    } catch (error) {
      issues = (error as { issues: { path: string }[] }).issues;
    }
    expect(issues.map((issue) => issue.path)).toEqual(
      expect.arrayContaining([
        "schema.partitionKey[1]",
        "schema.clusteringKey[0]",
        "columns.other",
      ]),
    );
  });
});
