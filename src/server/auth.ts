// Tokens and webhook signatures, compared in constant time.
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
