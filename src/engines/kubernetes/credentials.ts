// The credentials a kubeconfig holds, for the masker: tokens, passwords (and the Basic header they make), client key
// data, the values of credential-like keys of an auth provider's config and of an exec plugin's env, the content of
// the token and key files it names, and passwords in its URLs; each also in base64. Read from the file's text with
// a tolerant parser (and, when the YAML is broken, line by line too), so a kubeconfig that does not load still has
// its token masked. No Kubernetes client here: config/secrets.ts uses it for every command, and the client library
// is loaded with the engine only.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { isAlias, isMap, isScalar, parseAllDocuments, visit, type Node } from "yaml";
import type { FileSecretValues } from "../../core/file-secrets.ts";
import { FileSecrets } from "../../core/file-secrets.ts";
import { isSensitiveName } from "../../core/redact.ts";

/** The service account token of a pod, which the client reads when a stack names no kubeconfig (in-cluster). */
export const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** Keys whose value names a file: the file's content is the secret (token files, client keys), not the path. */
const SECRET_FILE_KEYS = new Set(["token-file", "tokenFile", "client-key"]);
/** Keys whose value names a file that holds nothing secret, or public data (certificates). */
const PUBLIC_KEYS = new Set(["client-certificate", "client-certificate-data", "certificate-authority", "certificate-authority-data", "idp-certificate-authority", "idp-certificate-authority-data", "cmd-path"]);
/** URLs that may carry a password. */
const URL_KEYS = new Set(["server", "proxy-url", "idp-issuer-url"]);
/** A line of a broken kubeconfig that sets a credential: `token: …`, `"password": "…"`, `client-key-data: …`. */
const CREDENTIAL_LINE = /^[\s-]*["']?([\w-]*(?:token|password|secret|key-data)[\w-]*)["']?\s*:\s*(.+?)\s*$/i;

function scalarText(node: unknown, text: string): string[] {
  if (isAlias(node)) return [node.source, `*${node.source}`];
  if (!isScalar(node) || node.value === null || node.value === undefined) return [];
  const raw = node.range ? text.slice(node.range[0], node.range[1]).trim() : "";
  return [String(node.value as string | number | boolean), raw];
}

function unquoted(value: string): string {
  return /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
}

function urlPassword(value: string): string[] {
  try {
    const password = new URL(value).password;
    return password ? [password, decodeURIComponent(password)] : [];
  } catch {
    return [];
  }
}

function keyOf(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === "string" ? node.value : undefined;
}

/** The content of a file a kubeconfig names (relative to the kubeconfig's folder, or to the working directory, as the client reads it). */
function fileContents(path: string, dir: string, files: string[]): string[] {
  const candidates = [...new Set(isAbsolute(path) ? [path] : [resolve(dir, path), resolve(path)])];
  const contents: string[] = [];
  for (const file of candidates) {
    files.push(file);
    try {
      const content = readFileSync(file, "utf8");
      contents.push(content, content.trim());
    } catch {
      // Not there (yet): the client fails on it, and the stamp of the path tells when it appears.
    }
  }
  return contents;
}

/** Every form in which these values may be written: as they are and in base64 (a Secret's data, a Basic header). */
function withEncodings(values: readonly string[]): string[] {
  return values.filter((v) => v !== "").flatMap((v) => [v, Buffer.from(v, "utf8").toString("base64")]);
}

/** The secret values of a kubeconfig's text; `dir` is its folder, for the files it names (which are read too). */
export function kubeconfigSecrets(text: string, dir: string): FileSecretValues {
  const secrets: string[] = [];
  const files: string[] = [];
  let broken = false;
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) broken = true;
    visit(doc, {
      Map(_key, map) {
        const pairs = new Map<string, Node | null>();
        for (const pair of map.items) {
          const key = keyOf(pair.key);
          if (key !== undefined) pairs.set(key, pair.value as Node | null);
        }
        for (const [key, value] of pairs) {
          if (SECRET_FILE_KEYS.has(key)) {
            for (const path of scalarText(value, text).slice(0, 1)) secrets.push(...fileContents(path, dir, files));
          } else if (URL_KEYS.has(key)) {
            for (const url of scalarText(value, text)) secrets.push(...urlPassword(unquoted(url)));
          } else if (!PUBLIC_KEYS.has(key) && isSensitiveName(key)) {
            const values = scalarText(value, text);
            secrets.push(...values);
            // client-key-data and the like: base64 of a PEM; the PEM is a secret too.
            if (key.endsWith("-data")) for (const v of values.slice(0, 1)) secrets.push(Buffer.from(v, "base64").toString("utf8"));
          }
        }
        // An exec plugin's env entry, `{ name: AWS_SECRET_ACCESS_KEY, value: … }`: a credential when its name says so.
        const name = keyOf(pairs.get("name"));
        if (name !== undefined && pairs.has("value") && isSensitiveName(name)) secrets.push(...scalarText(pairs.get("value"), text));
        // A user's username and password: what goes out is `Basic base64(username:password)`.
        const username = scalarText(pairs.get("username"), text)[0];
        const password = scalarText(pairs.get("password"), text)[0];
        if (username !== undefined && password !== undefined) secrets.push(`${username}:${password}`);
        return undefined;
      },
    });
    if (!isMap(doc.contents) && doc.contents !== null) broken = true;
  }
  if (broken) {
    for (const line of text.split(/\r?\n/)) {
      const match = CREDENTIAL_LINE.exec(line);
      if (!match || SECRET_FILE_KEYS.has(match[1]!) || PUBLIC_KEYS.has(match[1]!)) continue;
      const value = match[2]!.replace(/\s+#.*$/, "").replace(/,$/, "");
      secrets.push(value, unquoted(value), unquoted(value).replace(/^[*&]/, ""));
    }
  }
  return { secrets: withEncodings([...new Set(secrets)]), files: [...new Set(files)] };
}

/** The secret values of a kubeconfig file (throws when it cannot be read). */
export function readKubeconfigSecrets(file: string): FileSecretValues {
  return kubeconfigSecrets(readFileSync(file, "utf8"), dirname(file));
}

/** A service account token file's value, as it is and trimmed (throws when it cannot be read). */
export function readTokenFile(file: string): FileSecretValues {
  const content = readFileSync(file, "utf8");
  return { secrets: withEncodings([...new Set([content, content.trim()])]), files: [] };
}

/** What a Kubernetes stack's credentials are read from: its kubeconfig, or the pod's service account token. */
export function kubernetesSecretSource(kubeconfig: string | undefined): FileSecrets {
  return kubeconfig ? new FileSecrets(kubeconfig, readKubeconfigSecrets) : new FileSecrets(SERVICE_ACCOUNT_TOKEN, readTokenFile);
}
