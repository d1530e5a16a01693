// The Kubernetes engine's failures, each naming the stack and what to fix. Classified with instanceof.
import { EngineError, ProgramError } from "../../core/errors.ts";

/** The kubeconfig cannot be read or names no usable cluster/user/context. */
export class KubeconfigError extends EngineError {
  override name = "KubeconfigError";
}

/** The API server did not answer (connection refused, DNS, TLS, timeout). */
export class ClusterUnreachableError extends EngineError {
  override name = "ClusterUnreachableError";
}

/** The API server answered with an error status. `reason` is Kubernetes' own (NotFound, Conflict, Invalid, …). */
export class KubernetesApiError extends EngineError {
  override name = "KubernetesApiError";
  readonly status: number;
  readonly reason: string;
  /** The field causes of an Invalid answer (`field is immutable`), when the server gave them. */
  readonly causes: readonly { field?: string; message?: string; reason?: string }[];
  constructor(message: string, status: number, reason: string, causes: readonly { field?: string; message?: string; reason?: string }[] = []) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.causes = causes;
  }
}

/** 401: the credentials were refused (an expired or revoked token, a client certificate the server does not trust). */
export class ClusterUnauthorizedError extends KubernetesApiError {
  override name = "ClusterUnauthorizedError";
}

/** 403: RBAC does not allow a verb Driftwatch needs. */
export class ClusterForbiddenError extends KubernetesApiError {
  override name = "ClusterForbiddenError";
}

/** A manifest names a kind the server does not serve (and no CRD of the stack declares it). */
export class UnknownKindError extends EngineError {
  override name = "UnknownKindError";
}

/** A manifest that does not parse or is not a Kubernetes object; names the file and line. */
export class ManifestError extends ProgramError {
  override name = "ManifestError";
}
