// What the service shows about every stack at once (the stack lists, the fleet gauges): each stack's newest
// finished run and its open episode, in two statements whatever the number of stacks.
import type { OpenEpisodeSummary, RunSummary, Store } from "../store/api.ts";

export interface StackStates {
  lastRuns: Map<string, RunSummary>;
  openEpisodes: Map<string, OpenEpisodeSummary>;
}

export async function readStackStates(store: Pick<Store, "latestRuns" | "openEpisodeSummaries">, stacks: readonly string[]): Promise<StackStates> {
  const [runs, episodes] = await Promise.all([store.latestRuns(stacks), store.openEpisodeSummaries()]);
  return { lastRuns: new Map(runs.map((r) => [r.stack, r])), openEpisodes: new Map(episodes.map((e) => [e.stack, e])) };
}
