// docs/configuration.md: every key of driftwatch.yaml with its type, default, an example and what it does, generated
// from the zod schema (through the JSON Schema editors use), so it cannot drift from what the loader accepts.
// write-config-reference.ts writes it; config-reference.spec.ts fails while the file is stale, and while a key has
// neither an example nor a default worth showing.
import { Document } from "yaml";
import { configJsonSchema } from "./json-schema.ts";

type JsonSchema = Record<string, unknown> & {
  type?: string | string[];
  description?: string;
  default?: unknown;
  examples?: unknown[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
};

export interface ConfigKey {
  /** stacks[].source.repo */
  path: string;
  type: string;
  description: string;
  default?: unknown;
  example?: unknown;
  /** An object with keys of its own, or a list of such objects: its keys have rows of their own. */
  container: boolean;
}

function alternatives(node: JsonSchema): JsonSchema[] {
  return [...(node.anyOf ?? []), ...(node.oneOf ?? [])];
}

function typeOf(node: JsonSchema): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum) return node.enum.map((v) => String(v)).join(" | ");
  const choices = alternatives(node);
  if (choices.length > 0) return [...new Set(choices.map(typeOf))].join(" | ");
  if (node.type === "array") return node.items ? `list of ${typeOf(node.items)}` : "list";
  if (node.type === "object") {
    if (node.properties) return "object";
    const values = typeof node.additionalProperties === "object" ? typeOf(node.additionalProperties) : "any";
    return `map of ${values}`;
  }
  if (Array.isArray(node.type)) return node.type.join(" | ");
  return node.type ?? "any";
}

function hasKeys(node: JsonSchema): boolean {
  return (node.type === "object" && node.properties !== undefined) || alternatives(node).some(hasKeys);
}

/** Every key, in schema order: the first definition of a path wins (the stack variants share their common keys). */
export function configKeys(schema: JsonSchema = configJsonSchema() as JsonSchema): ConfigKey[] {
  const keys = new Map<string, ConfigKey>();
  const walk = (node: JsonSchema, path: string) => {
    for (const choice of alternatives(node)) walk(choice, path);
    if (node.type === "array" && node.items) walk(node.items, `${path}[]`);
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const key = path ? `${path}.${name}` : name;
      const known = keys.get(key);
      if (known && !known.type.split(" | ").includes(typeOf(child))) known.type = `${known.type} | ${typeOf(child)}`; // stacks[].engine
      if (!known) {
        const container = hasKeys(child) || (child.type === "array" && child.items !== undefined && hasKeys(child.items));
        keys.set(key, {
          path: key,
          type: typeOf(child),
          description: child.description ?? alternatives(child).find((c) => c.description)?.description ?? "",
          ...(child.default === undefined ? {} : { default: child.default }),
          ...(child.examples?.length ? { example: child.examples[0] } : child.const !== undefined ? { example: child.const } : {}),
          container,
        });
      }
      walk(child, key);
    }
  };
  walk(schema, "");
  return [...keys.values()];
}

/** A default worth showing as an example: not an empty list, map or string. */
export function meaningful(value: unknown): boolean {
  if (value === undefined || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object" && value !== null) return Object.keys(value).length > 0;
  return true;
}

/** A value as YAML on one line, as it would be written in driftwatch.yaml. */
function yamlValue(value: unknown): string {
  return new Document(value).toString({ collectionStyle: "flow", lineWidth: 0 }).trim();
}

/** Text for a table cell: pipes escaped, one line. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** Prose for a cell or paragraph: also `<dataDir>` and the like shown, not taken for HTML tags. */
function prose(text: string): string {
  return cell(text).replaceAll("<", "&lt;");
}

const code = (text: string) => (text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``);

/** A row's example: its own, else its default when that says something, else a pointer to its keys' rows. */
function exampleCell(row: ConfigKey): string {
  if (row.example !== undefined) return cell(code(yamlValue(row.example)));
  if (meaningful(row.default)) return cell(code(yamlValue(row.default)));
  return row.container ? "(its keys below)" : "";
}

export function configReference(): string {
  const schema = configJsonSchema() as JsonSchema;
  const keys = configKeys(schema);
  const lines = [
    "# Configuration reference",
    "",
    "<!-- Generated from src/config/schema.ts by `node src/config/write-config-reference.ts`; do not edit by hand. -->",
    "",
    "Every key of `driftwatch.yaml`, with its type, its default (what an absent key means) and an example. Paths",
    "relative to the file are relative to its folder; `${env:NAME}`, `${env:NAME:-fallback}` and `${dataDir}` are",
    "expanded where a description says so. Editors validate the file with `driftwatch.schema.json` (written by",
    "`driftwatch init`). `stacks[].pulumi`, `.terraform`, `.cloudformation` and `.kubernetes` apply to stacks of that",
    "`engine` only.",
    "",
  ];
  const sections = new Map<string, ConfigKey[]>();
  for (const key of keys) {
    const top = key.path.split(/[.[]/)[0]!;
    sections.set(top, [...(sections.get(top) ?? []), key]);
  }
  for (const [top, rows] of sections) {
    const own = rows.find((row) => row.path === top)!;
    lines.push(`## \`${top}\``, "", prose(own.description), "", "| key | type | default | example | description |", "| --- | --- | --- | --- | --- |");
    for (const row of rows) {
      const defaultCell = row.default === undefined ? "" : cell(code(yamlValue(row.default)));
      lines.push(`| ${code(row.path)} | ${cell(row.type)} | ${defaultCell} | ${exampleCell(row)} | ${prose(row.description)} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
