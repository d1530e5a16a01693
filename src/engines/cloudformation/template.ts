// A CloudFormation template and its parameters as Git holds them, and what in them is secret: NoEcho parameters
// (their values, wherever they show up) and the resource properties that take a NoEcho parameter or a dynamic
// reference ({{resolve:ssm-secure:…}}, {{resolve:secretsmanager:…}}, {{resolve:ssm:…}}), whose values are never shown.
import { parseDocument, type Tags } from "yaml";
import type { CloudFormationSettings } from "../../config/types.ts";
import { ProgramError } from "../../core/errors.ts";
import { joinPath } from "../../core/property-diff.ts";
import { readWorktreeFile, type WorktreeFolder } from "../../core/worktree-file.ts";

/** CloudFormation's limit for a template sent inline (TemplateBody); larger ones need S3. */
export const TEMPLATE_BODY_LIMIT = 51_200;

export interface CfnTemplate {
  /** The file as written: sent to CloudFormation as TemplateBody. */
  body: string;
  parameters: { ParameterKey: string; ParameterValue: string }[];
  /** Values of the NoEcho parameters given: masked wherever they appear. */
  secretValues: string[];
  /** Logical id → property paths whose values are secret. */
  secretPaths: Map<string, string[]>;
  /** The NoEcho parameters the template declares (CloudFormation never shows their deployed values). */
  noEcho: string[];
  /** The declared parameters' defaults, as strings. */
  defaults: Record<string, string>;
}

// The short-form intrinsic functions, read into their long form ({"Fn::Sub": …}): enough to walk the template.
const INTRINSICS = ["Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select", "Split", "Sub", "Transform", "And", "Equals", "If", "Not", "Or", "Contains", "EachMemberEquals", "ValueOf", "ToJsonString", "Length"];
const CFN_TAGS: Tags = [
  { tag: "!Ref", resolve: (value: string) => ({ Ref: value }) },
  { tag: "!Condition", resolve: (value: string) => ({ Condition: value }) },
  { tag: "!GetAtt", resolve: (value: string) => ({ "Fn::GetAtt": value.split(".") }) },
  ...INTRINSICS.flatMap((name) => [
    { tag: `!${name}`, resolve: (value: unknown) => ({ [`Fn::${name}`]: value }) },
    { tag: `!${name}`, collection: "seq" as const, resolve: (value: { toJSON(): unknown }) => ({ [`Fn::${name}`]: value.toJSON() }) },
    { tag: `!${name}`, collection: "map" as const, resolve: (value: { toJSON(): unknown }) => ({ [`Fn::${name}`]: value.toJSON() }) },
  ]),
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses a template (JSON is YAML too) with CloudFormation's short tags; ProgramError naming file and line when it cannot. */
export function parseTemplate(body: string, file: string): Record<string, unknown> {
  const doc = parseDocument(body, { customTags: CFN_TAGS, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new ProgramError(`template ${file} is not valid YAML or JSON: ${doc.errors[0]!.message}`);
  const parsed: unknown = doc.toJS();
  if (!isRecord(parsed) || !isRecord(parsed.Resources)) throw new ProgramError(`template ${file} has no Resources section`);
  return parsed;
}

/** A parameters file: {"Name": "value"} or [{"ParameterKey": …, "ParameterValue": …}] (the CLI's format). */
export function parseParametersFile(text: string, file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProgramError(`parameters file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(parsed)) {
    const entries = parsed.map((entry: unknown) => {
      if (!isRecord(entry) || typeof entry.ParameterKey !== "string" || typeof entry.ParameterValue !== "string") {
        throw new ProgramError(`parameters file ${file}: every entry needs a string ParameterKey and ParameterValue`);
      }
      return [entry.ParameterKey, entry.ParameterValue] as const;
    });
    return Object.fromEntries(entries);
  }
  if (isRecord(parsed) && Object.values(parsed).every((v) => typeof v === "string")) return parsed as Record<string, string>;
  throw new ProgramError(`parameters file ${file} must hold {"Name": "value"} or [{"ParameterKey": …, "ParameterValue": …}]`);
}

/** Any dynamic reference: ssm-secure and secretsmanager ones are secrets, and a plain ssm one may be a secret kept
 * in the wrong type of parameter; what Git does not hold in clear, Driftwatch does not show in clear. */
const DYNAMIC_REFERENCE = /\{\{resolve:[a-z-]+:/;

/** Whether a property value takes a NoEcho parameter or a dynamic reference anywhere inside it. */
function holdsSecret(value: unknown, noEcho: ReadonlySet<string>): boolean {
  if (typeof value === "string") return DYNAMIC_REFERENCE.test(value);
  if (Array.isArray(value)) return value.some((v) => holdsSecret(v, noEcho));
  if (!isRecord(value)) return false;
  if (typeof value.Ref === "string" && noEcho.has(value.Ref)) return true;
  const sub = value["Fn::Sub"];
  const subText = typeof sub === "string" ? sub : Array.isArray(sub) && typeof sub[0] === "string" ? sub[0] : undefined;
  if (subText && [...noEcho].some((name) => subText.includes(`\${${name}}`))) return true;
  return Object.values(value).some((v) => holdsSecret(v, noEcho));
}

/** The paths (as property diffs name them) of the secret-holding values under one resource's Properties. */
function secretPathsOf(properties: unknown, noEcho: ReadonlySet<string>, base = ""): string[] {
  if (!holdsSecret(properties, noEcho)) return [];
  const isIntrinsic = isRecord(properties) && Object.keys(properties).length === 1 && /^(Ref|Fn::)/.test(Object.keys(properties)[0]!);
  if (isIntrinsic || typeof properties === "string") return [base];
  if (Array.isArray(properties)) return properties.flatMap((v, i) => secretPathsOf(v, noEcho, joinPath(base, i)));
  if (isRecord(properties)) return Object.entries(properties).flatMap(([k, v]) => secretPathsOf(v, noEcho, joinPath(base, k)));
  return [];
}

/**
 * Reads stack `stack`'s template and parameters from the checked-out project folder: regular files inside the
 * worktree only, the template no larger than CloudFormation takes inline, a parameters file at most REPO_FILE_LIMIT.
 */
export async function loadTemplate(settings: CloudFormationSettings, folder: WorktreeFolder, stack: string): Promise<CfnTemplate> {
  const body = await readWorktreeFile(folder, { stack, key: "cloudformation.template", path: settings.template }, {
    maxBytes: TEMPLATE_BODY_LIMIT,
    why: "CloudFormation takes a template of at most that size inline; larger ones need S3, which Driftwatch does not upload to",
  });
  const template = parseTemplate(body, settings.template);
  const parametersFile = settings.parametersFile;
  const values = parametersFile ? parseParametersFile(await readWorktreeFile(folder, { stack, key: "cloudformation.parametersFile", path: parametersFile }), parametersFile) : (settings.parameters ?? {});
  const declared = isRecord(template.Parameters) ? template.Parameters : {};
  const unknown = Object.keys(values).filter((name) => !(name in declared));
  if (unknown.length > 0) throw new ProgramError(`template ${settings.template} declares no parameter ${unknown.join(", ")} (it declares: ${Object.keys(declared).join(", ") || "none"})`);
  const noEcho = new Set(Object.entries(declared).filter(([, p]) => isRecord(p) && String(p.NoEcho).toLowerCase() === "true").map(([name]) => name));
  const secretPaths = new Map<string, string[]>();
  for (const [logicalId, resource] of Object.entries(template.Resources as Record<string, unknown>)) {
    const paths = isRecord(resource) ? secretPathsOf(resource.Properties, noEcho) : [];
    if (paths.length > 0) secretPaths.set(logicalId, paths);
  }
  return {
    body,
    parameters: Object.entries(values).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
    secretValues: Object.entries(values).filter(([name, value]) => noEcho.has(name) && value !== "").map(([, value]) => value),
    secretPaths,
    noEcho: [...noEcho],
    defaults: Object.fromEntries(Object.entries(declared).flatMap(([name, p]) => (isRecord(p) && p.Default !== undefined ? [[name, Array.isArray(p.Default) ? p.Default.join(",") : String(p.Default)]] : []))),
  };
}
