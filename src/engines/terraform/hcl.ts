// The little HCL Driftwatch writes itself: flat files of string attributes (backend configuration).

const ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** A quoted HCL string literal: escapes per the HCL spec, and `$${` / `%%{` so a value is never a template. */
export function hclString(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i += 1) {
    const ch = value[i]!;
    const code = ch.charCodeAt(0);
    if (ESCAPES[ch]) out += ESCAPES[ch];
    else if ((ch === "$" || ch === "%") && value[i + 1] === "{") out += ch + ch;
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `"${out}"`;
}

/** `key = "value"` lines for `-backend-config=<file>`. Keys are plain identifiers (the config schema checks them). */
export function backendConfigFile(settings: Readonly<Record<string, string>>): string {
  return Object.entries(settings)
    .map(([key, value]) => `${key} = ${hclString(value)}\n`)
    .join("");
}
