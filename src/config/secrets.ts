// Every secret value Driftwatch holds, for the masker: the service's own tokens, every value the configuration
// took from the environment, the credential-like settings of every stack, the credential-like variables of the
// service's own environment, and what the credential files the service reads for its stacks hold (a Kubernetes
// stack's kubeconfig, the token and key files it names, or the pod's service account token; the AWS credential
// files a CloudFormation stack's client reads). Those files are read again whenever they change (core/file-secrets.ts).
import type { FileSecrets } from "../core/file-secrets.ts";
import { SecretMasker, sensitiveValues } from "../core/redact.ts";
import { awsCredentialSources } from "../engines/cloudformation/credential-files.ts";
import { kubernetesSecretSource } from "../engines/kubernetes/credentials.ts";
import type { DriftwatchConfig, StackConfig } from "./types.ts";

function stackSecrets(stack: StackConfig): string[] {
  const secrets = sensitiveValues(stack.env);
  if (stack.engine === "terraform") secrets.push(...sensitiveValues(stack.terraform.vars), ...sensitiveValues(stack.terraform.backendConfig));
  if (stack.engine === "cloudformation") secrets.push(...sensitiveValues(stack.cloudformation.parameters ?? {}));
  return secrets;
}

/** The database URL and the password in it, however it was written (from the environment or not). */
function databaseSecrets(config: DriftwatchConfig): string[] {
  if (config.database.kind !== "postgres") return [];
  const { url } = config.database;
  let password = "";
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // Not a URL: the whole value is masked below.
  }
  return [url, ...(password ? [password] : [])];
}

export function knownSecrets(config: DriftwatchConfig, serviceEnv: NodeJS.ProcessEnv): string[] {
  const { http } = config.service;
  return [
    ...(http.apiToken ? [http.apiToken] : []),
    ...(http.webhookSecret ? [http.webhookSecret] : []),
    ...(config.alerts.slack?.token ? [config.alerts.slack.token] : []),
    ...(config.alerts.slack?.signingSecret ? [config.alerts.slack.signingSecret] : []),
    ...config.environmentValues,
    ...databaseSecrets(config),
    ...config.stacks.flatMap(stackSecrets),
    ...sensitiveValues(serviceEnv),
  ];
}

/** The credential files the service itself reads for the stacks of this configuration, one source per file. */
export function credentialFileSources(config: DriftwatchConfig, serviceEnv: NodeJS.ProcessEnv): FileSecrets[] {
  const sources = config.stacks.flatMap((stack) => {
    if (stack.engine === "kubernetes") return [kubernetesSecretSource(stack.kubernetes.kubeconfig)];
    if (stack.engine === "cloudformation") return awsCredentialSources(stack.env, serviceEnv);
    return [];
  });
  return [...new Map(sources.map((source) => [source.file, source])).values()];
}

/** The masker for everything this configuration's service writes (see core/redact.ts). */
export function secretMaskerFor(config: DriftwatchConfig, serviceEnv: NodeJS.ProcessEnv): SecretMasker {
  return new SecretMasker(knownSecrets(config, serviceEnv)).track(...credentialFileSources(config, serviceEnv));
}
