// The normalized configuration every other module consumes (after parsing, validation and interpolation).

export interface SourceSpec {
  /** An absolute local path, or a file://, https:// or ssh URL (as written: credentials are never put here). */
  repo: string;
  /** Branch, tag or full commit SHA. */
  ref: string;
  /** Folder inside the repository holding the project (Pulumi.yaml), relative, "/"-separated; "." for the root. */
  path: string;
}

export interface PulumiSettings {
  /** Stack name inside the project, e.g. "dev". */
  stack: string;
  /** PULUMI_BACKEND_URL; defaults to file://<dataDir>/pulumi-backend. */
  backendUrl: string;
}

export interface StackConfig {
  name: string;
  engine: "pulumi";
  source: SourceSpec;
  pulumi: PulumiSettings;
  /**
   * Passed to the engine process only, already interpolated. Values of credential-like names (containing PASS,
   * SECRET, TOKEN, KEY, CREDENTIAL, PRIVATE, AUTH, ...) are masked wherever a result is shown or stored.
   */
  env: Record<string, string>;
  /** Per-stack run timeout. */
  timeoutSeconds: number;
}

export interface DriftwatchConfig {
  /** Absolute path of the file the configuration came from. */
  file: string;
  /** Absolute data directory: database, git mirrors, worktrees, caches. */
  dataDir: string;
  stacks: StackConfig[];
}
