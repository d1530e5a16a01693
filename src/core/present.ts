// How resources and values are shown to people, the same way in the CLI table and in alerts.
import type { FieldChanger } from "./types.ts";

/** `urn:pulumi:<stack>::<project>::<type>::<name>` → `<type>::<name>`; other addresses as they are. */
export function shortAddress(address: string): string {
  const parts = address.split("::");
  return parts.length >= 4 ? parts.slice(2).join("::") : address;
}

/** A property value as JSON text ("(none)" for absent), cut to `max` characters with "...". */
export function formatValue(v: unknown, max = 100): string {
  const text = v === null || v === undefined ? "(none)" : (JSON.stringify(v) ?? String(v));
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** "kubectl-edit (Update, 2026-11-27T14:02:11Z)": who set a field, as the engine knows it. */
export function formatChanger(changer: FieldChanger): string {
  const details = [changer.operation, changer.time].filter((d) => d !== undefined);
  return details.length ? `${changer.manager} (${details.join(", ")})` : changer.manager;
}

/** "1 stack", "3 stacks"; `many` for irregular plurals. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
