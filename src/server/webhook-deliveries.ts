// The webhook's memory of the deliveries it accepted, so a replayed one is ignored. A delivery is known by the ids
// its sender puts in headers (GitHub, Gitea/Forgejo/Gogs, GitLab) and, when its body is HMAC-signed, by that body:
// the signature covers the body only, so someone replaying a captured delivery could put a fresh id in the headers,
// but not a fresh body. None of the supported schemes signs a timestamp, so there is no time window to enforce.
//
// A redelivery (GitHub's "Redeliver" keeps the delivery id and the body) is the same delivery: ignored too. The
// memory is the store's (every replica shares it, and it outlives a restart), bounded: each key for
// DELIVERY_MEMORY_MS, the newest MAX_DELIVERIES keys at most. A replay later than that starts a check, which is all
// a webhook can do.
import { createHash } from "node:crypto";
import type { DeliveryLog } from "../store/api.ts";

/** Headers naming a delivery; each keeps its value when the sender retries or redelivers. */
const DELIVERY_ID_HEADERS = ["x-github-delivery", "x-gitea-delivery", "x-forgejo-delivery", "x-gogs-delivery", "x-gitlab-event-uuid", "idempotency-key", "x-driftwatch-delivery"];

/** GitHub lets a person redeliver for three days. */
export const DELIVERY_MEMORY_MS = 3 * 24 * 60 * 60 * 1000;
export const MAX_DELIVERIES = 10_000;

export type WebhookHeaders = Record<string, string | string[] | undefined>;

/** What a verified delivery is known by: its id headers, and its body when the body is what was signed. */
export function deliveryKeys(headers: WebhookHeaders, body: Buffer, bodySigned: boolean): string[] {
  const keys: string[] = [];
  for (const name of DELIVERY_ID_HEADERS) {
    const value = headers[name];
    const id = (Array.isArray(value) ? value[0] : value)?.trim();
    if (id) keys.push(`${name}:${id}`);
  }
  if (bodySigned) keys.push(`body:${createHash("sha256").update(body).digest("hex")}`);
  return keys;
}

export class WebhookDeliveries {
  readonly #log: DeliveryLog;
  readonly #limits: { ttlMs: number; max: number };

  /** `limits`: how long a key is kept and how many at most; DELIVERY_MEMORY_MS and MAX_DELIVERIES unless given. */
  constructor(log: DeliveryLog, limits: { ttlMs?: number; max?: number } = {}) {
    this.#log = log;
    this.#limits = { ttlMs: limits.ttlMs ?? DELIVERY_MEMORY_MS, max: limits.max ?? MAX_DELIVERIES };
  }

  /**
   * Notes a delivery as taken; false (nothing noted) when one of its keys was taken before, here or by another
   * process sharing the store. Of the same delivery claimed twice at once, one claim is true.
   */
  claim(keys: readonly string[]): Promise<boolean> {
    return this.#log.claimDelivery(keys, this.#limits);
  }

  /** Forgets a claimed delivery that could not be handled, so its sender may try it again. */
  release(keys: readonly string[]): Promise<void> {
    return this.#log.releaseDelivery(keys);
  }
}
