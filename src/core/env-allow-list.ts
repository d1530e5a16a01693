// Picking an allow-listed environment out of the service's. The processes Driftwatch starts for a repository
// (engines, git) get the variables named here, never the service's whole environment minus a few: its tokens and
// every stack's credentials are in that environment, and whatever such a process starts inherits what it got.

export interface EnvAllowList {
  /** Exact variable names. */
  readonly names?: readonly string[];
  /** Name prefixes (`LC_`): every variable starting with one. */
  readonly prefixes?: readonly string[];
}

/** Locale and time zone. */
export const LOCALE: EnvAllowList = { names: ["LANG", "LANGUAGE", "TZ"], prefixes: ["LC_"] };

/** Proxies, in both cases (curl reads only the lower-case `http_proxy`; other tools the upper-case names). */
export const PROXIES: EnvAllowList = {
  names: ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy"],
};

/** Whether `list` lets the variable `name` through. */
export function allows(list: EnvAllowList, name: string): boolean {
  return (list.names ?? []).includes(name) || (list.prefixes ?? []).some((prefix) => name.startsWith(prefix));
}

/** The variables of `env` that one of `lists` allows (unset ones left out). */
export function pickEnv(env: NodeJS.ProcessEnv, ...lists: readonly EnvAllowList[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && lists.some((list) => allows(list, name))) picked[name] = value;
  }
  return picked;
}
