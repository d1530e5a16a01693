/** Base class of everything that can go wrong while provisioning the engines. */
export class ProvisionError extends Error {
  override name = "ProvisionError";
  readonly tool: string;
  constructor(tool: string, message: string, options?: ErrorOptions) {
    super(`${tool}: ${message}`, options);
    this.tool = tool;
  }
}

/** A program needed to build a tool (go, python3, npm) is not installed. */
export class ToolNotFoundError extends ProvisionError {
  override name = "ToolNotFoundError";
  readonly missing: string;
  constructor(tool: string, missing: string, hint: string) {
    super(tool, `'${missing}' was not found on PATH; ${hint}`);
    this.missing = missing;
  }
}

/** A package registry did not answer or refused what was asked of it. */
export class RegistryError extends ProvisionError {
  override name = "RegistryError";
  readonly registry: string;
  constructor(tool: string, registry: string, detail: string) {
    super(tool, `could not get it from ${registry}:\n${detail}`);
    this.registry = registry;
  }
}

/** A build or install step ran and failed for another reason; its output is kept for the message. */
export class BuildError extends ProvisionError {
  override name = "BuildError";
  readonly output: string;
  constructor(tool: string, step: string, output: string) {
    super(tool, `${step} failed:\n${output}`);
    this.output = output;
  }
}
