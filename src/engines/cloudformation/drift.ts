// Native drift detection: DetectStackDrift → DescribeStackDriftDetectionStatus until it is over →
// DescribeStackResourceDrifts (every page). MODIFIED and DELETED resources are drift; NOT_CHECKED ones (types
// CloudFormation cannot inspect) are listed as unchecked, never counted as drift or as in sync.
import {
  DescribeStackDriftDetectionStatusCommand,
  DetectStackDriftCommand,
  paginateDescribeStackResourceDrifts,
  type CloudFormationClient,
  type DescribeStackDriftDetectionStatusCommandOutput,
} from "@aws-sdk/client-cloudformation";
import { EngineError } from "../../core/errors.ts";
import type { ResourceChange, UncheckedResource } from "../../core/types.ts";
import { driftChangeOf } from "./changes.ts";
import { patiently, pollUntil, type PollTiming } from "./poll.ts";

export interface DriftResult {
  drift: ResourceChange[];
  unchecked: UncheckedResource[];
}

/**
 * Runs one drift detection of `stackName` and reads its results. `limit` bounds how many detections run at once
 * against one account (CloudFormation refuses too many concurrent ones).
 */
export async function detectDrift(
  client: CloudFormationClient,
  stackName: string,
  options: { signal: AbortSignal; poll: PollTiming; limit: <T>(fn: () => Promise<T>) => Promise<T> },
): Promise<DriftResult> {
  const { signal } = options;
  const status = await options.limit(async (): Promise<DescribeStackDriftDetectionStatusCommandOutput> => {
    const started = await patiently(() => client.send(new DetectStackDriftCommand({ StackName: stackName }), { abortSignal: signal }), options.poll, signal);
    if (!started.StackDriftDetectionId) throw new EngineError(`CloudFormation started no drift detection for stack ${stackName}`);
    const id = started.StackDriftDetectionId;
    return pollUntil(
      () => client.send(new DescribeStackDriftDetectionStatusCommand({ StackDriftDetectionId: id }), { abortSignal: signal }),
      (s) => s.DetectionStatus !== "DETECTION_IN_PROGRESS",
      options.poll,
      signal,
    );
  });
  if (status.DetectionStatus === "DETECTION_FAILED") {
    throw new EngineError(`drift detection of CloudFormation stack ${stackName} failed: ${status.DetectionStatusReason ?? "no reason given"}`);
  }
  const drift: ResourceChange[] = [];
  const unchecked: UncheckedResource[] = [];
  for await (const page of paginateDescribeStackResourceDrifts({ client }, { StackName: stackName }, { abortSignal: signal })) {
    for (const resource of page.StackResourceDrifts ?? []) {
      if (resource.StackResourceDriftStatus === "NOT_CHECKED") {
        unchecked.push({ address: resource.LogicalResourceId ?? "?", type: resource.ResourceType ?? "?" });
        continue;
      }
      const change = driftChangeOf(resource);
      if (change) drift.push(change);
    }
  }
  return { drift, unchecked };
}
