// Who may press what: a stack's `approvers` are Slack user ids and user group ids. A group's members are read from
// Slack (usergroups.users.list, scope usergroups:read) when someone presses, and kept for a minute, so a burst of
// presses costs one call and a person removed from the group loses the right within that minute.

/** How long a user group's members are taken as read. */
export const GROUP_MEMBERS_TTL_MS = 60_000;

export interface GroupDirectory {
  userGroupMembers(group: string): Promise<string[]>;
}

export interface ApproverVerdict {
  allowed: boolean;
  /** Groups whose members could not be read (the press is refused unless the person is allowed otherwise). */
  problems: string[];
}

export class ApproverCheck {
  readonly #directory: GroupDirectory;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #groups = new Map<string, { members: Promise<ReadonlySet<string>>; until: number }>();

  constructor(directory: GroupDirectory, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#directory = directory;
    this.#ttlMs = options.ttlMs ?? GROUP_MEMBERS_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Whether `user` is among `approvers`: named, or a member of a named group. */
  async allows(approvers: readonly string[], user: string): Promise<ApproverVerdict> {
    if (approvers.includes(user)) return { allowed: true, problems: [] };
    const problems: string[] = [];
    for (const group of approvers.filter((a) => a.startsWith("S"))) {
      try {
        if ((await this.#members(group)).has(user)) return { allowed: true, problems: [] };
      } catch (error) {
        problems.push(`the members of user group ${group} could not be read (${error instanceof Error ? error.message : String(error)})`);
      }
    }
    return { allowed: false, problems };
  }

  #members(group: string): Promise<ReadonlySet<string>> {
    const now = this.#now();
    const cached = this.#groups.get(group);
    if (cached && cached.until > now) return cached.members;
    // Presses at the same moment share one request; a failed one is not kept.
    const members = this.#directory.userGroupMembers(group).then((ids) => new Set(ids));
    this.#groups.set(group, { members, until: now + this.#ttlMs });
    members.catch(() => {
      if (this.#groups.get(group)?.members === members) this.#groups.delete(group);
    });
    return members;
  }
}
