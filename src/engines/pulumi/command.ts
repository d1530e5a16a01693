// The Pulumi CLI as the Automation API runs it, but with exactly the environment Driftwatch gives the stack.
// The Automation API starts the CLI through execa, which adds the calling process's whole environment under the
// variables it is given: the service's tokens would reach every program. Each variable of ours the stack does
// not have is passed as undefined, which removes it (Node leaves undefined variables out of a child's
// environment); test/isolation.test.ts checks that a program sees none of them.
import type { PulumiCommand } from "@pulumi/pulumi/automation/index.js";

interface RunnableCommand {
  run(args: string[], cwd: string, env: Record<string, string | undefined>, ...rest: unknown[]): Promise<unknown>;
}

/** `command` with every `run` limited to the environment it is handed. */
export function isolatedCommand(command: PulumiCommand): PulumiCommand {
  const inner = command as unknown as RunnableCommand;
  const isolated = Object.create(command) as RunnableCommand;
  isolated.run = (args, cwd, env, ...rest) => {
    const only: Record<string, string | undefined> = {};
    for (const name of Object.keys(process.env)) only[name] = undefined;
    return inner.run.call(command, args, cwd, { ...only, ...env }, ...rest);
  };
  return isolated as unknown as PulumiCommand;
}
