// Why an alert could not be delivered. `permanent` failures (bad token, unknown channel) are reported once and never
// retried; transient ones (rate limits, 5xx, timeouts, network) stay in the outbox for the next occasion.

export class NotifierError extends Error {
  override name = "NotifierError";
  /** The notifier that failed, e.g. "slack". */
  readonly notifier: string;
  /** True when retrying cannot help (invalid_auth, channel_not_found, ...). */
  readonly permanent: boolean;
  /** The service's error code when it gave one (e.g. Slack's "invalid_auth"), else undefined. */
  readonly code: string | undefined;
  /** For rate limits: how long the service asked us to wait. */
  readonly retryAfterSeconds: number | undefined;

  constructor(notifier: string, message: string, options: { permanent: boolean; code?: string; retryAfterSeconds?: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.notifier = notifier;
    this.permanent = options.permanent;
    this.code = options.code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Error codes that say the notifier's credentials are unusable: every further delivery would fail the same way. */
export const CREDENTIAL_ERROR_CODES: ReadonlySet<string> = new Set([
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "no_permission",
  "missing_scope",
  "not_allowed_token_type",
  "ekm_access_denied",
]);
