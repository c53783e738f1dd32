/** Running the external tools locks rely on (git, gpgv), with their stderr kept for error messages. */
import { run } from "../util/run.ts";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args`; never throws for a non-zero exit, only when the program cannot be started. */
export async function runCommand(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  const r = await run(cmd, args, { what: `${cmd} ${args[0] ?? ""}`.trim(), cwd: opts.cwd, env: opts.env, allowFailure: true });
  return { code: r.code, stdout: r.stdout.toString("utf8"), stderr: r.stderr };
}

/** The last meaningful line of a tool's stderr: what a one-line error can quote. */
export function lastLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).pop() ?? "";
}
