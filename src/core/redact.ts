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
