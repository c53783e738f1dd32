/** Running a helper program to completion, with one-line errors the user can act on. */
import { spawn } from "node:child_process";
import { KilnError } from "../errors.ts";
import { stopOnInterrupt } from "./interrupt.ts";

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

export interface RunOptions {
  /** What the command is for, for the error message ("push registry/x:1"). */
  what: string;
  hint?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Return the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
}

/** Why a program could not start, as the user should read it: a missing program says how to get it. */
export function startFailure(e: NodeJS.ErrnoException, cmd: string, what: string): Error {
  return e.code === "ENOENT" ? new KilnError(`${what}: ${cmd} is not installed`, "run `kiln engine setup` (or ./hack/setup.sh)") : e;
}

export async function run(cmd: string, args: string[], opts: RunOptions): Promise<RunResult> {
  // stdin is a pipe only when there is something to feed; otherwise the child gets /dev/null.
  const stdin = opts.input === undefined ? "ignore" : "pipe";
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [stdin, "pipe", "pipe"] });
  const forget = stopOnInterrupt(child);
  const out: Buffer[] = [];
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => out.push(d));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  if (child.stdin) {
    // A program may exit without reading its input (EPIPE); its exit code tells what happened.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input);
  }
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", (e: NodeJS.ErrnoException) => reject(startFailure(e, cmd, opts.what)));
    child.on("close", (c) => resolve(c ?? 1));
  }).finally(forget);
  const result = { stdout: Buffer.concat(out), stderr, code };
  if (code !== 0 && !opts.allowFailure) {
    const last = stderr.trim().split("\n").filter(Boolean).pop() ?? `exit code ${code}`;
    throw new KilnError(`${opts.what} failed: ${last}`, opts.hint);
  }
  return result;
}
