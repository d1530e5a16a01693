// `driftwatch init`: a commented starter driftwatch.yaml for the engines a user names, which loads as it is
// (stacks that need credentials wait for them with requiresEnv), and the JSON Schema editors validate it with.
import { ENGINES } from "./schema.ts";

export type StarterEngine = (typeof ENGINES)[number];

const HEADER = `# yaml-language-server: $schema=./driftwatch.schema.json
# Driftwatch: which stacks to watch, where their code is in Git, and how to reach what they manage.
# Every key is described in driftwatch.schema.json (your editor completes and checks them) and in docs/configuration.md.
# Check once with: driftwatch check      Run the service with: driftwatch serve

# Where the database, git mirrors and worktrees go (relative to this file).
dataDir: .driftwatch

service:
  schedule: "*/15 * * * *"        # every stack, every 15 minutes (cron, five fields); a stack may set its own
  http:
    host: 127.0.0.1               # the dashboard, API and /metrics
    port: 8080

defaults:
  timeoutSeconds: 600
  remediation: { mode: off }      # off: only report; auto or approve: converge within guard rails (docs/remediation.md)

alerts:
  log: true                       # drift episodes as log lines; add slack: { channel: "#drift", tokenEnv: SLACK_BOT_TOKEN }

# Each stack's code (a Pulumi program, a Terraform plan, npm install scripts, kustomize) runs in an OS sandbox:
# its own worktree, home and state only. strict needs Linux 6.7+ with Landlock; "driftwatch doctor" says what this
# machine enforces. A stack's sandbox: { readOnly, readWrite, connectPorts } grants it more (docs/security.md).
sandbox: strict

# The fleet's posture every Monday: an HTML report under dataDir/reports, listed on the dashboard at /reports.
# With alerts.slack set, add slack: { channel: "#drift" } for a digest; "driftwatch report" makes one any time.
reports:
  - { name: weekly, schedule: "0 9 * * mon", since: 7d }

stacks:
`;

const STACKS: Record<StarterEngine, string> = {
  pulumi: `  # A Pulumi project (the folder holding Pulumi.yaml).
  - name: web-pulumi
    engine: pulumi
    requiresEnv: [PULUMI_CONFIG_PASSPHRASE]   # watched once the passphrase of its secrets is set
    source:
      repo: https://github.com/acme/infra.git   # or a local path, file://, or an ssh URL
      ref: main
      path: pulumi/web
    pulumi:
      stack: prod
      # backendUrl: s3://acme-pulumi-state    # default: a local file:// backend under dataDir
    env:                          # what the engine gets besides PATH, locale and proxies: credentials go here
      PULUMI_CONFIG_PASSPHRASE: \${env:PULUMI_CONFIG_PASSPHRASE}
`,
  terraform: `  # A Terraform/OpenTofu root module.
  - name: network
    engine: terraform
    source:
      repo: https://github.com/acme/infra.git
      path: terraform/network
    terraform:
      # binary: terraform         # default: tofu when available, else terraform
      vars:
        region: eu-west-1
    # env: { AWS_PROFILE: infra, AWS_CONFIG_FILE: /etc/driftwatch/aws/config }   # files named here are readable to it
    # sandbox: { connectPorts: [8200] }   # a TCP port besides 443, 80 and those of URLs in its settings
`,
  cloudformation: `  # A CloudFormation stack, its template in Git.
  - name: web-cfn
    engine: cloudformation
    requiresEnv: [AWS_PROFILE, AWS_ACCESS_KEY_ID]   # watched once AWS credentials are there
    source:
      repo: https://github.com/acme/infra.git
      path: cfn/web
    cloudformation:
      stackName: web-prod
      region: eu-west-1
      template: template.yaml
`,
  kubernetes: `  # A folder of Kubernetes manifests, or a Kustomize overlay.
  - name: web-k8s
    engine: kubernetes
    requiresEnv: [KUBECONFIG]     # watched once KUBECONFIG is set
    source:
      repo: https://github.com/acme/platform.git
      path: clusters/prod/web
    kubernetes:
      kubeconfig: \${env:KUBECONFIG}
      namespace: web
`,
};

/** The starter file for `engines` (all when none), in the order the engines are named. */
export function starterConfig(engines: readonly StarterEngine[]): string {
  const chosen = engines.length ? [...new Set(engines)] : [...ENGINES];
  return HEADER + chosen.map((engine) => STACKS[engine]).join("");
}

export function isStarterEngine(name: string): name is StarterEngine {
  return (ENGINES as readonly string[]).includes(name);
}
