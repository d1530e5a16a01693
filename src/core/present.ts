// How resources and values are shown to people, the same way in the CLI table and in alerts.

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
