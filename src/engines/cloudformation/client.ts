// The CloudFormation client of one stack: its region, an emulator's endpoint if configured, adaptive retries
// (AWS throttling slows the client down instead of failing the check), and credentials from the standard AWS
// chain read from the *stack's* environment (its `env` over Driftwatch's), never from the configuration file.
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { fromIni, fromNodeProviderChain, fromTokenFile } from "@aws-sdk/credential-providers";
import type { CloudFormationSettings } from "../../config/types.ts";

type Credentials = NonNullable<ConstructorParameters<typeof CloudFormationClient>[0]>["credentials"];

/** Attempts per request, throttling included (the adaptive mode also rate-limits the client itself). */
const MAX_ATTEMPTS = 8;

/** The credentials the environment names: static keys, a web identity token, a profile, else the default chain. */
export function credentialsFrom(env: NodeJS.ProcessEnv): Credentials {
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
