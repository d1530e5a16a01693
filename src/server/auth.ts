// Tokens and webhook signatures, compared in constant time.
//
// Slack's request signing (https://api.slack.com/authentication/verifying-requests-from-slack) is checked here too
// rather than with @slack/bolt's verifySlackRequest: that one accepts timestamps from the future (only stale ones
// are refused) and would bring Express and the Socket Mode client along for a few lines of node:crypto.
import { createHmac, timingSafeEqual } from "node:crypto";

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether `Authorization: Bearer <token>` carries `expected`. */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const given = /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1];
  return given !== undefined && sameText(given, expected);
}

/**
 * How a webhook delivery proves it knows `secret`, or undefined when it does not: "signature" for GitHub's
 * `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` (also accepted as `X-Driftwatch-Signature`; Gitea and
 * Forgejo send it too), which authenticates the body; "token" for GitLab's `X-Gitlab-Token: <secret>`, which does not.
 */
export function webhookAuthentication(headers: Record<string, string | string[] | undefined>, body: Buffer, secret: string): "signature" | "token" | undefined {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const signature = header("x-hub-signature-256") ?? header("x-driftwatch-signature");
  if (signature) {
    const expected = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
    return sameText(signature.toLowerCase(), expected) ? "signature" : undefined;
  }
  const gitlab = header("x-gitlab-token");
  return gitlab !== undefined && sameText(gitlab, secret) ? "token" : undefined;
}

/** How far a Slack request's timestamp may be from this machine's clock, either way (Slack's own advice). */
export const SLACK_SIGNATURE_MAX_AGE_MS = 5 * 60_000;

/**
 * Why a request does not prove it comes from Slack, or undefined when it does: `X-Slack-Signature` must be `v0=` and
 * the hex HMAC-SHA256, keyed with the app's signing secret, of `v0:<X-Slack-Request-Timestamp>:<body>`, and the
 * timestamp within five minutes of `nowMs`.
 */
export function slackSignatureProblem(headers: Record<string, string | string[] | undefined>, body: Buffer, secret: string, nowMs = Date.now()): string | undefined {
  const timestamp = headers["x-slack-request-timestamp"];
  const signature = headers["x-slack-signature"];
  if (typeof timestamp !== "string" || typeof signature !== "string") return "the request is not signed (no X-Slack-Signature or X-Slack-Request-Timestamp)";
  if (!/^\d{1,12}$/.test(timestamp)) return "X-Slack-Request-Timestamp is not a time";
  if (Math.abs(nowMs - Number(timestamp) * 1000) > SLACK_SIGNATURE_MAX_AGE_MS) return "the request's timestamp is more than five minutes off (a replay, or a wrong clock)";
  const expected = `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:`).update(body).digest("hex")}`;
  return sameText(signature, expected) ? undefined : "the signature does not match";
}
