// The CloudFormation client of one stack: its region, an emulator's endpoint if configured, adaptive retries
// (AWS throttling slows the client down instead of failing the check), and credentials from the standard AWS
// chain read from the *stack's* environment (its `env` over Driftwatch's), never from the configuration file.
// A credentials provider's failure never quotes a credentials file: a failed credential_process is reported
// without its command line (the file's content), with the first line of its stderr, masked with what the files hold.
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { fromIni, fromNodeProviderChain, fromTokenFile } from "@aws-sdk/credential-providers";
import type { CloudFormationSettings } from "../../config/types.ts";
import { errorMessage } from "../../core/errors.ts";
import { SecretMasker } from "../../core/redact.ts";
import { awsCredentialSources } from "./credential-files.ts";

type Credentials = NonNullable<ConstructorParameters<typeof CloudFormationClient>[0]>["credentials"];

/** Attempts per request, throttling included (the adaptive mode also rate-limits the client itself). */
const MAX_ATTEMPTS = 8;

type Provider = Extract<Credentials, (...args: never[]) => unknown>;

/** How much of a credential helper's stderr is shown (its first line). */
const MAX_HELPER_MESSAGE = 300;

/**
 * The error of a failed credentials provider, saying the same without quoting a credentials file: `Command failed:
 * <credential_process>` becomes what failed and the first line of its stderr; everything is masked with the values
 * of the credential files this stack's client reads. The name stays (CredentialsProviderError), for the engine.
 */
export function credentialsFailure(error: unknown, env: NodeJS.ProcessEnv, serviceEnv: NodeJS.ProcessEnv = process.env): Error {
  const lines = errorMessage(error).split("\n").map((line) => line.trim());
  const said = (text: string) => (text.length > MAX_HELPER_MESSAGE ? `${text.slice(0, MAX_HELPER_MESSAGE)}…` : text);
  let message: string;
  if (lines[0]!.startsWith("Command failed:")) {
    const stderr = lines.slice(1).find((line) => line !== "");
    message = `the profile's credential_process failed${stderr ? `: ${said(stderr)}` : ""}`;
  } else {
    message = said(lines.find((line) => line !== "") ?? "no message");
  }
  const masker = new SecretMasker(awsCredentialSources(env, serviceEnv).flatMap((source) => source.current()));
  const failure = new Error(masker.text(message));
  failure.name = error instanceof Error ? error.name : "CredentialsProviderError";
  return failure;
}

function reported(provider: Provider, env: NodeJS.ProcessEnv): Provider {
  return (async (...args: Parameters<Provider>) => {
    try {
      return await provider(...args);
    } catch (error) {
      throw credentialsFailure(error, env);
    }
  }) as Provider;
}

/** The credentials the environment names: static keys, a web identity token, a profile, else the default chain. */
export function credentialsFrom(env: NodeJS.ProcessEnv): Credentials {
  const found = providerFrom(env);
  return typeof found === "function" ? reported(found, env) : found;
}

function providerFrom(env: NodeJS.ProcessEnv): Credentials {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
  }
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN) {
    return fromTokenFile({ webIdentityTokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE, roleArn: env.AWS_ROLE_ARN, ...(env.AWS_ROLE_SESSION_NAME ? { roleSessionName: env.AWS_ROLE_SESSION_NAME } : {}) });
  }
  if (env.AWS_PROFILE) {
    return fromIni({
      profile: env.AWS_PROFILE,
      ...(env.AWS_SHARED_CREDENTIALS_FILE ? { filepath: env.AWS_SHARED_CREDENTIALS_FILE } : {}),
      ...(env.AWS_CONFIG_FILE ? { configFilepath: env.AWS_CONFIG_FILE } : {}),
    });
  }
  return fromNodeProviderChain();
}

/** Which account a client talks to, as far as it can be told without a call: for per-account limits. */
export function accountKey(settings: CloudFormationSettings, env: NodeJS.ProcessEnv): string {
  return [settings.endpoint ?? "aws", settings.region, env.AWS_ACCESS_KEY_ID ?? env.AWS_ROLE_ARN ?? env.AWS_PROFILE ?? "default"].join("|");
}

export function cloudFormationClient(settings: CloudFormationSettings, env: NodeJS.ProcessEnv): CloudFormationClient {
  return new CloudFormationClient({
    region: settings.region,
    credentials: credentialsFrom(env),
    retryMode: "adaptive",
    maxAttempts: MAX_ATTEMPTS,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
  });
}
