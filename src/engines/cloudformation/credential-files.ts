// The AWS credential files a CloudFormation stack's client may read in the service's process (client.ts): the
// shared credentials and config files and the web identity token file its `env` names, else the service's own
// (its environment's, else ~/.aws/ of the service's home, where the SDK's default chain looks). Their secret values
// go to the masker (config/secrets.ts). No AWS SDK here: config/secrets.ts uses it for every command, and the SDK
// is loaded with the engine only.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { FileSecrets, type FileSecretValues } from "../../core/file-secrets.ts";
import { isSensitiveName } from "../../core/redact.ts";

/** Keys of a profile whose value is a command or a file with a credential in it, besides credential-like names. */
const COMMAND_KEYS = new Set(["credential_process"]);
const TOKEN_FILE_KEYS = new Set(["web_identity_token_file"]);

function withBase64(values: readonly string[]): string[] {
  return values.filter((v) => v !== "").flatMap((v) => [v, Buffer.from(v, "utf8").toString("base64")]);
}

function tokenFile(file: string, files: string[]): string[] {
  files.push(file);
  try {
    const content = readFileSync(file, "utf8");
    return [content, content.trim()];
  } catch {
    return [];
  }
}

/**
 * The secret values of an AWS shared credentials or config file: the values of credential-like keys
 * (aws_secret_access_key, aws_session_token, …), credential_process commands, and the web identity token files a
 * profile names. Read line by line as the SDK does (`key = value`, comments after ` #` or ` ;`).
 */
export function readAwsCredentialFile(file: string): FileSecretValues {
  const secrets: string[] = [];
  const files: string[] = [];
  for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
    const text = line.split(/(^|\s)[;#]/)[0]!.trim();
    const equals = text.indexOf("=");
    if (equals <= 0) continue;
    const key = text.slice(0, equals).trim().toLowerCase();
    const value = text.slice(equals + 1).trim();
    if (value === "") continue;
    if (TOKEN_FILE_KEYS.has(key)) secrets.push(...tokenFile(resolve(dirname(file), value), files));
    else if (COMMAND_KEYS.has(key) || isSensitiveName(key)) secrets.push(value);
  }
  return { secrets: withBase64(secrets), files };
}

/** A web identity token file: the whole file is the secret. */
export function readWebIdentityTokenFile(file: string): FileSecretValues {
  const content = readFileSync(file, "utf8");
  return { secrets: withBase64([...new Set([content, content.trim()])]), files: [] };
}

/**
 * The credential files a CloudFormation stack's client may read, as masker sources: those its `env` names, and the
 * service's own (named by its environment, else under ~/.aws/), which the SDK reads when the stack's env names none.
 */
export function awsCredentialSources(stackEnv: Record<string, string | undefined>, serviceEnv: NodeJS.ProcessEnv): FileSecrets[] {
  const home = serviceEnv.HOME || homedir();
  const defaults = { AWS_SHARED_CREDENTIALS_FILE: join(home, ".aws", "credentials"), AWS_CONFIG_FILE: join(home, ".aws", "config") };
  const paths = (name: string, fallback?: string) => [stackEnv[name], serviceEnv[name] || fallback].filter((f): f is string => Boolean(f)).map((f) => resolve(f));
  const ini = [...paths("AWS_SHARED_CREDENTIALS_FILE", defaults.AWS_SHARED_CREDENTIALS_FILE), ...paths("AWS_CONFIG_FILE", defaults.AWS_CONFIG_FILE)];
  return [...[...new Set(ini)].map((f) => new FileSecrets(f, readAwsCredentialFile)), ...[...new Set(paths("AWS_WEB_IDENTITY_TOKEN_FILE"))].map((f) => new FileSecrets(f, readWebIdentityTokenFile))];
}
