/** How a secret value is shown everywhere Driftwatch writes: output, logs, database, Slack. */
export const SECRET_MASK = "[secret]";

/** Removes credentials embedded in URLs (https://user:token@host/...) from a message. */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(:[^/\s@]*)?@/gi, "$1***@");
}

/** Replaces every occurrence of each known secret value with the mask. */
export function redactValues(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(SECRET_MASK);
  }
  return out;
}
