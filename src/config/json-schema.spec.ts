import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIG_SCHEMA_ID, configJsonSchema } from "./json-schema.ts";
import { configFileSchema } from "./schema.ts";
import { jsonSchemaPath, jsonSchemaText } from "./write-json-schema.ts";

interface StackSchema {
  additionalProperties: boolean;
  properties: Record<string, { description?: string; additionalProperties?: boolean; const?: unknown }>;
}

describe("driftwatch.schema.json", () => {
  it("on disk is what the zod schema produces (run `node src/config/write-json-schema.ts` after changing it)", () => {
    expect(JSON.parse(readFileSync(jsonSchemaPath, "utf8"))).toEqual(configJsonSchema());
    expect(readFileSync(jsonSchemaPath, "utf8")).toBe(jsonSchemaText());
  });

  it("is a draft 2020-12 schema with an id, a title, descriptions and no room for unknown keys", () => {
    const schema = configJsonSchema() as {
      $schema: string;
      $id: string;
      title: string;
      additionalProperties: boolean;
      properties: { stacks: { items: { description: string; oneOf: StackSchema[] } } };
    };
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.$id).toBe(CONFIG_SCHEMA_ID);
    expect(schema.title).toBe("Driftwatch configuration");
    expect(schema.additionalProperties).toBe(false);
    const stacks = schema.properties.stacks.items.oneOf;
    // One strict shape per engine, told apart by `engine`, so editors complete the right block.
    expect(stacks.map((stack) => stack.properties.engine?.const)).toEqual(["pulumi", "terraform", "cloudformation", "kubernetes"]);
    for (const stack of stacks) {
      const engine = String(stack.properties.engine?.const);
      expect(stack.additionalProperties).toBe(false);
      expect(stack.properties.source?.additionalProperties).toBe(false);
      expect(stack.properties[engine]?.additionalProperties).toBe(false);
      for (const [key, property] of Object.entries(stack.properties)) expect(property.description, `${engine}: ${key}`).toBeTruthy();
    }
  });

  it("rejects an unknown key and accepts the documented example", () => {
    const example = {
      dataDir: ".driftwatch",
      defaults: { timeoutSeconds: 600 },
      stacks: [
        {
          name: "demo-files",
          engine: "pulumi",
          source: { repo: ".", ref: "main", path: "stacks/demo-files" },
          pulumi: { stack: "dev" },
          env: { PULUMI_CONFIG_PASSPHRASE: "${env:DEMO_PASSPHRASE}" },
          timeoutSeconds: 300,
        },
      ],
    };
    expect(configFileSchema.safeParse(example).success).toBe(true);
    const unknownTop = configFileSchema.safeParse({ ...example, extra: true });
    expect(unknownTop.success).toBe(false);
    expect(unknownTop.error?.issues).toEqual([expect.objectContaining({ code: "unrecognized_keys", keys: ["extra"], path: [] })]);
    const unknownNested = configFileSchema.safeParse({ stacks: [{ ...example.stacks[0], source: { repo: ".", branch: "main" } }] });
    expect(unknownNested.error?.issues).toEqual([
      expect.objectContaining({ code: "unrecognized_keys", keys: ["branch"], path: ["stacks", 0, "source"] }),
    ]);
  });

  it("keeps the regex patterns usable by editors (valid with the u flag)", () => {
    const patterns: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (typeof value === "object" && value !== null)
        for (const [key, child] of Object.entries(value)) key === "pattern" && typeof child === "string" ? patterns.push(child) : walk(child);
    };
    walk(configJsonSchema());
    expect(patterns.length).toBeGreaterThan(3);
    for (const pattern of patterns) expect(() => new RegExp(pattern, "u"), pattern).not.toThrow();
  });
});
