// Masking secrets wherever Driftwatch writes: results, the database, the API and dashboard, logs and alerts.
//
// A SecretMasker knows every secret *value* Driftwatch holds (its own tokens, every value interpolated from the
// environment, credential-like settings) and the built-in credential shapes (AWS key ids, Slack/GitHub tokens,
// PEM private keys, JSON Web Tokens). It works on parsed values, never on serialized text: every string (object keys
// included) has each known value and each pattern masked, and a number or boolean whose text is a secret is masked
// as a whole. Secrets that live in files the service reads (a kubeconfig's token, an AWS credentials file) come from
// SecretSources, asked before every masking, so a file rewritten while the service runs is masked with what it
// holds now.

/** How a secret value is shown everywhere Driftwatch writes: output, logs, database, Slack. */
export const SECRET_MASK = "[secret]";

/**
 * Shorter values are not masked inside other text: a two-character "secret" would make every message unreadable,
 * and guessing it is trivial anyway.
 */
export const MIN_SECRET_LENGTH = 4;

/** Credentials recognisable by their shape, masked in everything stored and shown, whatever the configuration. */
export const BUILT_IN_PATTERNS: readonly string[] = [
  String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`, // AWS access key ids
  String.raw`\bxox[abposr]-[0-9A-Za-z-]{10,}`, // Slack tokens
  String.raw`https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+`, // Slack webhook URLs
  String.raw`\bgh[pousr]_[A-Za-z0-9]{36,}\b`, // GitHub tokens
  String.raw`\bgithub_pat_[A-Za-z0-9_]{22,}`, // GitHub fine-grained tokens
  String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, // JSON Web Tokens (Kubernetes service account and OIDC tokens)
  String.raw`\bk8s-aws-v1\.[A-Za-z0-9_-]{20,}`, // EKS tokens (aws eks get-token)
  // PEM private keys, up to their END line, or to the end of the text when a value was cut before it.
  String.raw`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[\s\S]*)`,
];

/** Removes credentials embedded in URLs (https://user:token@host/...) from a message. */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(:[^/\s@]*)?@/gi, "$1***@");
}

const SENSITIVE_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH|SESSION|COOKIE|CERT/i;

/** Whether an environment variable's name says its value is a credential (PULUMI_CONFIG_PASSPHRASE, AWS_SECRET_ACCESS_KEY, ...). */
export function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAME.test(name);
}

/** The values of the credential-like variables in an env map: never to be shown anywhere. */
export function sensitiveValues(env: Record<string, string | undefined>): string[] {
  return Object.entries(env)
    .filter(([name, value]) => value !== undefined && isSensitiveName(name))
    .map(([, value]) => value!);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** A secret as it also appears inside JSON text kept in a string (a policy document, a serialized env). */
function encodedForms(secret: string): string[] {
  const inJson = JSON.stringify(secret).slice(1, -1);
  return inJson === secret ? [secret] : [secret, inJson];
}

/**
 * Secret values kept in a file the service reads, which may change while it runs. `current()` is asked before every
 * masking, so it must be cheap while nothing changed, and answer the very same array then.
 */
export interface SecretSource {
  current(): readonly string[];
}

/** Masks every known secret value and every credential pattern; see the top of this file. */
export class SecretMasker {
  /** What it was told (constructor, add); the values of its sources come on top. */
  readonly #told = new Set<string>();
  readonly #sources: { source: SecretSource; values: readonly string[] }[] = [];
  #secrets = new Set<string>();
  readonly #patterns: readonly RegExp[];
  #values: RegExp | undefined;

  constructor(secrets: Iterable<string> = [], patterns: readonly string[] = BUILT_IN_PATTERNS) {
    this.#patterns = patterns.map((source) => new RegExp(source, "g"));
    this.add(secrets);
  }

  /** Learns more secret values (empty and too-short ones are ignored). */
  add(secrets: Iterable<string>): this {
    for (const secret of secrets) if (secret.length >= MIN_SECRET_LENGTH) this.#told.add(secret);
    this.#rebuild();
    return this;
  }

  /** Keeps masking what these sources hold, as it changes (a changed value replaces the source's earlier ones). */
  track(...sources: SecretSource[]): this {
    for (const source of sources) this.#sources.push({ source, values: source.current() });
    this.#rebuild();
    return this;
  }

  /** Whether a whole value is one of the known secrets. */
  isSecret(value: string): boolean {
    this.#refresh();
    return this.#secrets.has(value);
  }

  text(text: string): string {
    this.#refresh();
    return this.#text(text);
  }

  /** Asks each source for its values; rebuilds what masks them when one answered something new. */
  #refresh(): void {
    let changed = false;
    for (const entry of this.#sources) {
      const values = entry.source.current();
      if (values !== entry.values) {
        entry.values = values;
        changed = true;
      }
    }
    if (changed) this.#rebuild();
  }

  #rebuild(): void {
    this.#secrets = new Set([...this.#told, ...this.#sources.flatMap((entry) => entry.values.filter((value) => value.length >= MIN_SECRET_LENGTH))]);
    const forms = [...this.#secrets].flatMap(encodedForms).sort((a, b) => b.length - a.length);
    this.#values = forms.length > 0 ? new RegExp(forms.map(escapeRegExp).join("|"), "g") : undefined;
  }

  #text(text: string): string {
    let out = this.#values ? text.replace(this.#values, SECRET_MASK) : text;
    // An empty match (a pattern like `x*` between two characters) masks nothing.
    for (const pattern of this.#patterns) out = out.replace(pattern, (match) => (match === "" ? match : SECRET_MASK));
    return redactUrls(out);
  }

  /**
   * A deep copy of `value` with every secret masked; plain data in, plain data out (an Error becomes its name and
   * message). `keep` names the paths (object keys and array indexes) whose values stay as they are.
   */
  value<T>(value: T, keep: (path: readonly string[]) => boolean = () => false): T {
    this.#refresh();
    return this.#deep(value, [], keep) as T;
  }

  /**
   * A deep copy of a document whose object keys are its schema's field names (a report): every value masked, every
   * key kept, so the copy keeps the document's shape (a field named `spans` stays one whatever the secrets are).
   */
  document<T>(value: T): T {
    this.#refresh();
    return this.#deep(value, [], () => false, false) as T;
  }

  #deep(value: unknown, path: readonly string[], keep: (path: readonly string[]) => boolean, maskKeys = true): unknown {
    if (path.length > 0 && keep(path)) return value;
    if (typeof value === "string") return this.#text(value);
    if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return this.#secrets.has(String(value)) ? SECRET_MASK : value;
    if (Array.isArray(value)) return value.map((item, index) => this.#deep(item, [...path, String(index)], keep, maskKeys));
    if (value instanceof Error) return { type: value.name, message: this.#text(value.message) };
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [maskKeys ? this.#text(key) : key, this.#deep(item, [...path, key], keep, maskKeys)]));
    }
    return value;
  }
}
