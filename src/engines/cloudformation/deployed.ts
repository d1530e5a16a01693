// What the stack runs now (GetTemplate, DescribeStacks), compared with Git: when the deployed template and
// parameters are Git's, a review change set could only say "no changes", so none is made (it costs a minute
// and a ChangeSet slot). NoEcho parameters come back masked, so with any of them the answer is always "maybe".
import { DescribeStacksCommand, GetTemplateCommand, type CloudFormationClient } from "@aws-sdk/client-cloudformation";
import type { CfnTemplate } from "./template.ts";

function sameTemplate(deployed: string, git: string): boolean {
  if (deployed === git) return true;
  try {
    // CloudFormation may hand a JSON template back re-serialized.
    return JSON.stringify(JSON.parse(deployed)) === JSON.stringify(JSON.parse(git));
  } catch {
    return false;
  }
}

/** Whether the deployed stack runs exactly Git's template with Git's parameters (defaults included). */
export async function deployedMatchesGit(client: CloudFormationClient, stackName: string, template: CfnTemplate, signal: AbortSignal): Promise<boolean> {
  if (template.noEcho.length > 0) return false;
  const [got, described] = await Promise.all([
    client.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: "Original" }), { abortSignal: signal }),
    client.send(new DescribeStacksCommand({ StackName: stackName }), { abortSignal: signal }),
  ]);
  if (typeof got.TemplateBody !== "string" || !sameTemplate(got.TemplateBody, template.body)) return false;
  const git = { ...template.defaults, ...Object.fromEntries(template.parameters.map((p) => [p.ParameterKey, p.ParameterValue])) };
  const deployed = Object.fromEntries((described.Stacks?.[0]?.Parameters ?? []).map((p) => [p.ParameterKey ?? "", p.ParameterValue ?? ""]));
  const names = new Set([...Object.keys(git), ...Object.keys(deployed)]);
  return [...names].every((name) => git[name] === deployed[name]);
}
