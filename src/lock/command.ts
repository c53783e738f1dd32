/** Running the external tools locks rely on (git, gpgv), with their stderr kept for error messages. */
import { execFile } from "node:child_process";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args`; never throws for a non-zero exit, only when the program cannot be started. */
export function runCommand(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return reject(err);
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** The last meaningful line of a tool's stderr: what a one-line error can quote. */
export function lastLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).pop() ?? "";
}
