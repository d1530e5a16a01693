// The Terraform engine's own failures, beside core/errors.ts's. Classified with instanceof.
import { EngineError } from "../../core/errors.ts";

/**
 * A provider package in a stack's data directory is not what provisioning built (a file changed, missing or added):
 * no plan ran with it. Nothing in the stack's commit causes or fixes it; the message says what an operator does.
 */
export class ProviderIntegrityError extends EngineError {
  override name = "ProviderIntegrityError";
  /** "registry.opentofu.org/hashicorp/random 3.9.0 (linux_amd64)". */
  readonly provider: string;
  /** The first file found different, by its path inside the package. */
  readonly file: string;
  constructor(message: string, details: { provider: string; file: string }) {
    super(message);
    this.provider = details.provider;
    this.file = details.file;
  }
}
