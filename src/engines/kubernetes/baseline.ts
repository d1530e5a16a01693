// A: the object set of Driftwatch's last successful apply of a stack, kept in the database through the engine's
// state record. Stored objects are the applied members (namespaced, labelled) with Secret values as keyed digests
// and the last-applied annotation masked.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { EngineError } from "../../core/errors.ts";
import { preparePrivateDir } from "../../core/private-dir.ts";
import type { EngineState } from "../api.ts";
import type { KubeObject } from "./objects.ts";

const baselineSchema = z.strictObject({
  version: z.literal(1),
  objects: z.array(z.looseObject({ apiVersion: z.string(), kind: z.string(), metadata: z.looseObject({ name: z.string() }) })),
});

export interface Baseline {
  commit?: string;
  objects: KubeObject[];
}

export async function readBaseline(state: EngineState, stack: string): Promise<Baseline | undefined> {
  const record = await state.read();
  if (!record) return undefined;
  let parsed: z.infer<typeof baselineSchema>;
  try {
    parsed = baselineSchema.parse(JSON.parse(record.value));
  } catch (error) {
    throw new EngineError(`stack ${stack}: the recorded last apply cannot be read (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); converge the stack to record it again`);
  }
  return { ...(record.commit ? { commit: record.commit } : {}), objects: parsed.objects as KubeObject[] };
}

export async function writeBaseline(state: EngineState, objects: readonly KubeObject[], commit: string | undefined): Promise<void> {
  await state.write(JSON.stringify({ version: 1, objects }), commit);
}

/**
 * The key of the Secret digests: 32 random bytes in `<dataDir>/kubernetes/secret-digest.key` (0600), made on first
 * use. Only this installation can tell whether a value matches a stored digest.
 */
export function digestKey(dataDir: string): Buffer {
  const dir = join(dataDir, "kubernetes");
  preparePrivateDir(dir);
  const file = join(dir, "secret-digest.key");
  try {
    writeFileSync(file, randomBytes(32), { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const key = readFileSync(file);
  if (key.length !== 32) throw new EngineError(`${file} is not a 32-byte key; remove it (Secrets of Kubernetes stacks then show as changed until their next converge)`);
  return key;
}
