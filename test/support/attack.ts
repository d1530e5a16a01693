// Helpers of the sandbox attack suite (test/sandbox-attack.test.ts): the real CLI and `serve` as processes of
// their own (so their command line and /proc/<pid>/environ are what an attacker finds in production), the probes'
// records read back from what Driftwatch shows, a search for a secret in every encoding the probes use, and the
// processes a run left behind.
//
//   const run = await runCliProcess(["--config", file, "check", "--json"], serviceEnvironment(secrets));
//   const records = probeRecords(JSON.parse(run.stdout));
//   const forms = leakForms(searchable(run.stdout), secret);  // ["base64 (inside a larger blob)", "rot13", ...]
import { spawn } from "node:child_process";
import { join } from "node:path";
import { manifestPath } from "../../src/toolchain/paths.ts";

const CLI = join(import.meta.dirname, "../../src/cli/main.ts");

/** What a service needs from the test's environment (toolchain, locale, TLS, proxies): nothing of the harness. */
const PASSED = /^(PATH|HOME|USER|LOGNAME|LANG|LC_[A-Z]+|TZ|TMPDIR|SSL_CERT_FILE|SSL_CERT_DIR|NODE_EXTRA_CA_CERTS|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy|npm_config_registry|DRIFTWATCH_TOOLCHAIN|DRIFTWATCH_TOOLS_DIR|DRIFTWATCH_NODE|TF_CLI_CONFIG_FILE|CHECKPOINT_DISABLE|PULUMI_SKIP_UPDATE_CHECK)$/;

/** A service's process environment: the few variables of this one it needs to run, and its own `extra` (tokens). */
export function serviceEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => PASSED.test(name)));
  return { ...base, DRIFTWATCH_TOOLCHAIN: process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath(), DRIFTWATCH_LOG_LEVEL: "info", ...extra };
}

export interface CliProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The Driftwatch process's pid: the "service" whose environ the probes go for. */
  pid: number;
}

/** `node src/cli/main.ts <args>` as a process of its own, with exactly `env`. */
export async function runCliProcess(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliProcessRun> {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exit) => resolve(exit));
  });
  return { code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), pid: child.pid! };
}

/** One line a probe reported: dwattack|<kind>|<attempt>|<field>|<value>. */
export interface ProbeRecord {
  kind: string;
  attempt: string;
  field: string;
  value: string;
}

/** Every string inside a JSON value, depth first. */
export function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(stringsIn);
  return [];
}

/** The probes' records in a JSON value (a diff's values, an error message's lines), each once. */
export function probeRecords(value: unknown): ProbeRecord[] {
  const seen = new Map<string, ProbeRecord>();
  for (const text of stringsIn(value)) {
    for (const line of text.split("\n")) {
      const at = line.indexOf("dwattack|");
      if (at < 0) continue;
      const [, kind, attempt, field, ...rest] = line.slice(at).split("|");
      if (!kind || !attempt || !field || rest.length === 0) continue;
      // Quoted inside an engine's error message (a failed plan shows its data source's output): unquote.
      const quoted = line[at - 1] === '"';
      const value = quoted ? rest.join("|").trimEnd().replace(/",?$/, "") : rest.join("|").trimEnd();
      const key = `${kind}|${attempt}|${field}`;
      if (!quoted || !seen.has(key)) seen.set(key, { kind, attempt, field, value });
    }
  }
  return [...seen.values()];
}

/** What an HTML page says, its entities decoded. */
export function htmlText(html: string): string {
  return html
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

/** A text made searchable: JSON documents and JSON log lines reduced to their strings (escapes undone). */
export function searchable(text: string): string {
  try {
    return stringsIn(JSON.parse(text)).join("\n");
  } catch {
    return text
      .split("\n")
      .map((line) => {
        try {
          return stringsIn(JSON.parse(line)).join("\n");
        } catch {
          return line;
        }
      })
      .join("\n");
  }
}

export function rot13(text: string): string {
  return text.replace(/[A-Za-z]/g, (c) => {
    const base = c <= "Z" ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

export function reversed(text: string): string {
  return [...text].reverse().join("");
}

const BASE64_RUN = /[A-Za-z0-9+/]{12,}={0,2}/g;

/** Every base64-looking run of `text`, decoded (from each of its first four offsets), with the run's length. */
function decodedRuns(text: string): { length: number; decoded: string }[] {
  const runs: { length: number; decoded: string }[] = [];
  for (const match of text.matchAll(BASE64_RUN)) {
    for (let offset = 0; offset < 4; offset++) runs.push({ length: match[0].length, decoded: Buffer.from(match[0].slice(offset), "base64").toString("latin1") });
  }
  return runs;
}

/** A text prepared once for leakForms: itself, reversed, rot13, and the base64 decoded out of each. */
export interface SearchSpace {
  text: string;
  decoded: { from: string; length: number; decoded: string }[];
}

export function searchSpace(text: string): SearchSpace {
  const decoded = [
    ...decodedRuns(text).map((r) => ({ from: "", ...r })),
    ...decodedRuns(reversed(text)).map((r) => ({ from: "reversed ", ...r })),
    ...decodedRuns(rot13(text)).map((r) => ({ from: "rot13 of ", ...r })),
  ];
  return { text, decoded };
}

/**
 * The forms in which `secret` is in the space: "clear", "reversed", "rot13", "base64", "base64 of a larger blob",
 * "base64 of its reversed form", "reversed base64 …", "rot13 of base64 …" and so on. Empty: nowhere.
 */
export function leakForms(space: SearchSpace, secret: string): string[] {
  const found = new Set<string>();
  const variants: [string, string][] = [
    ["clear", secret],
    ["reversed", reversed(secret)],
    ["rot13", rot13(secret)],
  ];
  for (const [form, variant] of variants) if (space.text.includes(variant)) found.add(form);
  const encodedLength = Buffer.from(secret).toString("base64").length;
  for (const run of space.decoded) {
    for (const [form, variant] of variants) {
      if (!run.decoded.includes(variant)) continue;
      const what = form === "clear" ? (run.length > encodedLength + 8 ? " of a larger blob" : "") : ` of its ${form} form`;
      found.add(`${run.from}base64${what}`);
    }
  }
  return [...found].sort();
}

/** What one record's value says in clear, by its field's encoding (juicy.N.b64, blob.b64, .rev, .rot13, .clear). */
export function recordPlain(record: ProbeRecord): string {
  if (record.field.endsWith(".b64")) return Buffer.from(record.value, "base64").toString("latin1");
  if (record.field.endsWith(".rev")) return reversed(record.value);
  if (record.field.endsWith(".rot13")) return rot13(record.value);
  return record.value;
}

