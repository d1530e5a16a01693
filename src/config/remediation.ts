// A stack's remediation policy: the built-in defaults (remediation off, no deletes or replaces, at most 10
// resources, any time), then `defaults.remediation`, then the stack's own `remediation`, field by field.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { z } from "zod";
import type { remediationSchema } from "./schema.ts";
import type { RemediationPolicy } from "./types.ts";

type RawRemediation = z.output<typeof remediationSchema>;

export const DEFAULT_REMEDIATION: RemediationPolicy = {
  mode: "off",
  approvalTtlMs: 24 * 3_600_000,
  backoff: { initialMs: 5 * 60_000, maxMs: 360 * 60_000, attempts: 5 },
  allow: { deletes: false, replaces: false },
  maxChanges: 10,
  protect: [],
  windows: [],
  freeze: [],
  requireSignedCommit: false,
  on: "drift",
};

/**
 * `requireSignedCommit` as written → when the signature is verified. `true` keeps its original meaning (before
 * remediating only); the object form defaults to `check`, so no engine ever runs an unverified commit's code.
 */
function signatureRequirement(raw: NonNullable<RawRemediation["requireSignedCommit"]>): RemediationPolicy["requireSignedCommit"] {
  if (raw === false) return false;
  if (raw === true) return { before: "remediate" };
  return { before: raw.before ?? "check" };
}

/** The merged policy; `trustedKeys` resolved against the config file's folder. */
export function remediationPolicy(defaults: RawRemediation | undefined, own: RawRemediation | undefined, baseDir: string): RemediationPolicy {
  const layers = [defaults ?? {}, own ?? {}];
  const policy: RemediationPolicy = { ...DEFAULT_REMEDIATION, allow: { ...DEFAULT_REMEDIATION.allow }, backoff: { ...DEFAULT_REMEDIATION.backoff } };
  for (const layer of layers) {
    const { allow, trustedKeys, approvalHours, backoff, requireSignedCommit, ...rest } = layer;
    if (requireSignedCommit !== undefined) policy.requireSignedCommit = signatureRequirement(requireSignedCommit);
    if (backoff?.initialMinutes !== undefined) policy.backoff.initialMs = backoff.initialMinutes * 60_000;
    if (backoff?.maxMinutes !== undefined) policy.backoff.maxMs = backoff.maxMinutes * 60_000;
    if (backoff?.attempts !== undefined) policy.backoff.attempts = backoff.attempts;
    if (approvalHours !== undefined) policy.approvalTtlMs = Math.round(approvalHours * 3_600_000);
    Object.assign(policy, Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
    if (allow) Object.assign(policy.allow, Object.fromEntries(Object.entries(allow).filter(([, v]) => v !== undefined)));
    if (trustedKeys !== undefined) policy.trustedKeys = resolve(baseDir, trustedKeys);
  }
  return policy;
}

/** What is wrong with a merged policy that no single field shows: a signature requirement without keys, keys that are not there. */
export function remediationProblems(policy: RemediationPolicy): { field: "requireSignedCommit" | "trustedKeys"; message: string }[] {
  if (!policy.requireSignedCommit) return [];
  if (!policy.trustedKeys) return [{ field: "requireSignedCommit", message: "requires trustedKeys: an SSH allowed-signers file or OpenPGP public keys to verify commits with" }];
  if (!existsSync(policy.trustedKeys)) return [{ field: "trustedKeys", message: `no such file: ${policy.trustedKeys}` }];
  return [];
}
