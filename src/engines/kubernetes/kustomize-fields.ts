// The fields kustomize reads from a kustomization and from the configs of its builtin plugins, as the pinned
// kustomize (v5.8.2, built from sigs.k8s.io/kustomize/api v0.21.2) declares them, and the way it matches keys to
// them: kustomize turns the YAML into JSON (sigs.k8s.io/yaml) and decodes it with Go's encoding/json, which takes
// an exact key first and otherwise any key equal to a field's name case-insensitively (Unicode simple folding, so
// `Resources`, `RESOURCES` and even `reſources` are all `resources`). Driftwatch's guard reads the same fields: a
// key that is not one of them is refused, not skipped, and so are two keys kustomize would take as the same field.
import { ManifestError } from "./errors.ts";
import { isPlainObject } from "./objects.ts";

/** api/types/kustomization.go `Kustomization`, with its inlined TypeMeta (kind, apiVersion). */
export const KUSTOMIZATION_FIELDS: readonly string[] = [
  "kind",
  "apiVersion",
  "metadata",
  "openapi",
  "namePrefix",
  "nameSuffix",
  "namespace",
  "commonLabels",
  "labels",
  "commonAnnotations",
  "patchesStrategicMerge",
  "patchesJson6902",
  "patches",
  "images",
  "imageTags",
  "replacements",
  "replicas",
  "vars",
  "sortOptions",
  "resources",
  "components",
  "crds",
  "bases",
  "configMapGenerator",
  "secretGenerator",
  "helmGlobals",
  "helmCharts",
  "helmChartInflationGenerator",
  "generatorOptions",
  "configurations",
  "generators",
  "transformers",
  "validators",
  "buildMetadata",
];

/** api/types/patch.go `Patch` (entries of `patches` and `patchesJson6902`). */
export const PATCH_FIELDS: readonly string[] = ["path", "patch", "target", "options"];

/** api/types/replacementfield.go `ReplacementField`: `path`, or an inlined `Replacement` (replacement.go). */
export const REPLACEMENT_FIELDS: readonly string[] = ["path", "source", "targets", "sourceValue"];

/** api/types/generatorargs.go `GeneratorArgs` with its inlined kvpairsources.go `KvPairSources` (configMapGenerator entries). */
export const GENERATOR_ARGS_FIELDS: readonly string[] = ["namespace", "name", "behavior", "literals", "files", "envs", "env", "options"];

/** api/types/secretargs.go `SecretArgs`: GeneratorArgs and the Secret's `type` (secretGenerator entries). */
export const SECRET_ARGS_FIELDS: readonly string[] = [...GENERATOR_ARGS_FIELDS, "type"];

/** The `openapi` map (map[string]string, so its keys are exact): kusttarget.go reads `path`, kyaml's openapi.SetSchema `version`. */
export const OPENAPI_KEYS: readonly string[] = ["path", "version"];

/** A builtin plugin config's apiVersion (api/konfig/plugins.go BuiltinPluginApiVersion); anything else needs a plugin. */
export const BUILTIN_API_VERSION = "builtin";

/**
 * The fields every plugin config has as a Kubernetes-style object, read by kustomize's resource layer (kyaml), which
 * matches them exactly: a config spelling them otherwise is refused rather than guessed at.
 */
export const OBJECT_FIELDS: readonly string[] = ["apiVersion", "kind", "metadata"];

/**
 * The builtin plugins kustomize v5.8.2 can configure from a `generators:`, `transformers:` or `validators:` entry
 * (api/internal/plugins/builtinhelpers/builtins.go, GeneratorFactories and TransformerFactories), each with the
 * fields its config struct decodes (api/internal/builtins/<Kind>.go). SortOrderTransformer is not wired there.
 */
export const BUILTIN_PLUGIN_FIELDS: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ["ConfigMapGenerator", ["metadata", ...GENERATOR_ARGS_FIELDS]],
  ["SecretGenerator", ["metadata", ...SECRET_ARGS_FIELDS]],
  ["IAMPolicyGenerator", ["cloud", "kubernetesService", "serviceAccount"]],
  ["AnnotationsTransformer", ["annotations", "fieldSpecs"]],
  ["HashTransformer", []],
  ["ImageTagTransformer", ["imageTag", "fieldSpecs"]],
  ["LabelTransformer", ["labels", "fieldSpecs"]],
  ["NamespaceTransformer", ["metadata", "fieldSpecs", "unsetOnly", "setRoleBindingSubjects"]],
  ["PatchJson6902Transformer", ["target", "path", "jsonOp"]],
  ["PatchStrategicMergeTransformer", ["paths", "patches"]],
  ["PatchTransformer", ["path", "patch", "target", "options"]],
  ["PrefixSuffixTransformer", ["prefix", "suffix", "fieldSpecs"]],
  ["PrefixTransformer", ["prefix", "fieldSpecs"]],
  ["SuffixTransformer", ["suffix", "fieldSpecs"]],
  ["ReplacementTransformer", ["replacements"]],
  ["ReplicaCountTransformer", ["replica", "fieldSpecs"]],
  ["ValueAddTransformer", ["value", "targets", "targetFilePath"]],
]);

/** The builtin plugin Driftwatch never lets kustomize run, and the kustomization fields that configure it. */
export const HELM_PLUGIN = "HelmChartInflationGenerator";
export const HELM_FIELDS: readonly string[] = ["helmGlobals", "helmCharts", "helmChartInflationGenerator"];

/** A key a mapping sets, under the name of the field kustomize decodes it into. */
export interface FieldValue {
  /** The key as written (`Resources`). */
  key: string;
  value: unknown;
}

/**
 * The fields a mapping sets, by the name of the field kustomize decodes each key into. A key that is no field
 * (`refuse` says so), or a second key for a field already set (`Resources` beside `resources`), is refused:
 * `where` prefixes the message. Matching is ASCII case-insensitive: a key with other characters is unknown, even
 * where Go would fold it onto a field (`reſources`), since no field has such a character.
 */
export function fieldsOf(mapping: Record<string, unknown>, fields: readonly string[], where: string, what: string): Map<string, FieldValue> {
  const byFolded = new Map(fields.map((field) => [field.toLowerCase(), field]));
  const found = new Map<string, FieldValue>();
  for (const [key, value] of Object.entries(mapping)) {
    const field = /^[\x20-\x7e]*$/.test(key) ? byFolded.get(key.toLowerCase()) : undefined;
    if (field === undefined) {
      throw new ManifestError(`${where}: unknown key '${key}': ${what} has no such field (kustomize reads keys case-insensitively, so Driftwatch checks every key it does not know)`);
    }
    const earlier = found.get(field);
    if (earlier) {
      throw new ManifestError(`${where}: keys '${earlier.key}' and '${key}' are the same field '${field}' to kustomize, which reads keys case-insensitively: write it once`);
    }
    found.set(field, { key, value });
  }
  return found;
}

/** `fieldsOf` for a value that must be a mapping. */
export function mappingFields(value: unknown, fields: readonly string[], where: string, what: string): Map<string, FieldValue> {
  if (!isPlainObject(value)) throw new ManifestError(`${where}: must be a mapping (${what})`);
  return fieldsOf(value, fields, where, what);
}
