// Change sets: what CloudFormation would do with Git's template. For review only (pending changes: created,
// described, deleted), or drift-aware (DeploymentMode REVERT_DRIFT: the remediation plan, executed as described).
import { randomBytes } from "node:crypto";
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type Change,
  type CloudFormationClient,
  type DescribeChangeSetCommandOutput,
} from "@aws-sdk/client-cloudformation";
import type { CloudFormationSettings } from "../../config/types.ts";
import { EngineError, errorMessage, ProgramError, RemediationUnavailableError } from "../../core/errors.ts";
import { pollUntil, type PollTiming } from "./poll.ts";
import type { CfnTemplate } from "./template.ts";

export interface ChangeSet {
  name: string;
  /** Every resource change, all pages, with property values. */
  changes: Change[];
}

interface Options {
  signal: AbortSignal;
  poll: PollTiming;
}

/** CloudFormation's words for a change set that changes nothing. */
const NO_CHANGES = /didn't contain changes|No updates are to be performed/i;

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "";
}

/** review: only described, never executed; revert: drift-aware (REVERT_DRIFT); update: a plain update to apply. */
export type ChangeSetPurpose = "review" | "revert" | "update";

const DESCRIPTIONS: Record<ChangeSetPurpose, string> = {
  review: "Driftwatch: review of the template in Git (never executed)",
  revert: "Driftwatch: revert drift to the template in Git",
  update: "Driftwatch: apply the template in Git",
};

/**
 * Creates a change set of Git's template and waits for it: undefined when it would change nothing. A drift-aware
 * one that CloudFormation cannot make is RemediationUnavailableError; a template it rejects is ProgramError.
 */
export async function createChangeSet(client: CloudFormationClient, settings: CloudFormationSettings, template: CfnTemplate, purpose: ChangeSetPurpose, options: Options): Promise<ChangeSet | undefined> {
  const revertDrift = purpose === "revert";
  const name = `driftwatch-${purpose}-${Date.now()}-${randomBytes(3).toString("hex")}`;
  const stack = settings.stackName;
  try {
    await client.send(
      new CreateChangeSetCommand({
        StackName: stack,
        ChangeSetName: name,
        ChangeSetType: "UPDATE",
        TemplateBody: template.body,
        Parameters: template.parameters,
        Capabilities: settings.capabilities,
        ...(settings.roleArn ? { RoleARN: settings.roleArn } : {}),
        ...(revertDrift ? { DeploymentMode: "REVERT_DRIFT" as const } : {}),
        Description: DESCRIPTIONS[purpose],
      }),
      { abortSignal: options.signal },
    );
  } catch (error) {
    if (revertDrift && /drift|REVERT_DRIFT|DeploymentMode/i.test(errorMessage(error)) && errorName(error) === "ValidationError") {
      throw new RemediationUnavailableError(`CloudFormation cannot revert the drift of stack ${stack}: ${errorMessage(error)}`);
    }
    if (errorName(error) === "ValidationError" && /template|parameter/i.test(errorMessage(error))) {
      throw new ProgramError(`CloudFormation rejects template ${settings.template} of stack ${stack}: ${errorMessage(error)}`);
    }
    throw error;
  }
  try {
    return await describeCreated(client, stack, name, revertDrift, options);
  } catch (error) {
    await deleteChangeSet(client, stack, name);
    throw error;
  }
}

/** Waits for a created change set and reads all of it; undefined (and deleted) when it changes nothing. */
async function describeCreated(client: CloudFormationClient, stack: string, name: string, revertDrift: boolean, options: Options): Promise<ChangeSet | undefined> {
  const status = await pollUntil(
    () => client.send(new DescribeChangeSetCommand({ StackName: stack, ChangeSetName: name }), { abortSignal: options.signal }),
    (s) => s.Status !== "CREATE_PENDING" && s.Status !== "CREATE_IN_PROGRESS",
    options.poll,
    options.signal,
  );
  if (status.Status !== "CREATE_COMPLETE") {
    const reason = status.StatusReason ?? String(status.Status);
    if (NO_CHANGES.test(reason)) {
      await deleteChangeSet(client, stack, name);
      return undefined;
    }
    if (revertDrift) throw new RemediationUnavailableError(`CloudFormation cannot revert the drift of stack ${stack}: ${reason}`);
    throw new EngineError(`change set ${name} of stack ${stack} failed: ${reason}`);
  }
  const changes: Change[] = [];
  let next: string | undefined;
  do {
    const page: DescribeChangeSetCommandOutput = await client.send(
      new DescribeChangeSetCommand({ StackName: stack, ChangeSetName: name, IncludePropertyValues: true, ...(next ? { NextToken: next } : {}) }),
      { abortSignal: options.signal },
    );
    changes.push(...(page.Changes ?? []));
    next = page.NextToken;
  } while (next);
  return { name, changes };
}

/** Deletes a change set; a failure to is not the run's failure (CloudFormation expires them anyway). */
export async function deleteChangeSet(client: CloudFormationClient, stack: string, name: string): Promise<void> {
  await client.send(new DeleteChangeSetCommand({ StackName: stack, ChangeSetName: name })).catch(() => undefined);
}

/** Executes exactly the described change set and waits for the stack to settle; EngineError unless it updated. */
export async function executeChangeSet(client: CloudFormationClient, stack: string, name: string, options: Options): Promise<void> {
  await client.send(new ExecuteChangeSetCommand({ StackName: stack, ChangeSetName: name }), { abortSignal: options.signal });
  const described = await pollUntil(
    () => client.send(new DescribeStacksCommand({ StackName: stack }), { abortSignal: options.signal }),
    (s) => !(s.Stacks?.[0]?.StackStatus ?? "").endsWith("_IN_PROGRESS"),
    options.poll,
    options.signal,
  );
  const final = described.Stacks?.[0];
  if (final?.StackStatus !== "UPDATE_COMPLETE") {
    throw new EngineError(`stack ${stack} did not update: ${final?.StackStatus ?? "unknown status"}${final?.StackStatusReason ? ` (${final.StackStatusReason})` : ""}`);
  }
}
