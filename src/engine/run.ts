/**
 * Runs one engine command (`docker buildx build ...`, `buildctl build ...`):
 * stderr goes line by line into the progress display, stdout is collected,
 * and a failed run comes back with a summary of what failed.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { KilnError } from "../errors.ts";
import { stopOnInterrupt } from "../util/interrupt.ts";
import type { Progress } from "./progress.ts";

export interface EngineRunOptions {
  progress: Progress;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface EngineRunResult {
  code: number;
  /** On a non-zero exit: what failed; the first line stands alone as an error message. */
  failure?: string;
  stdout: string;
}

/** The engine client lost its daemon mid-build (it stopped, restarted or crashed), as opposed to a failing step. */
export function lostEngine(failure: string): boolean {
  return /error reading from server: EOF|code = Unavailable|transport is closing|connection reset by peer|Cannot connect to the Docker daemon/i.test(failure);
}

export async function runEngineCommand(argv: string[], opts: EngineRunOptions): Promise<EngineRunResult> {
  const [command, ...args] = argv;
  if (!command) throw new Error("runEngineCommand: empty command line");
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Interrupted, kiln ends at once: the engine client must not build on, orphaned, for nobody.
  const forget = stopOnInterrupt(child);
  const stdout: Buffer[] = [];
  child.stdout.on("data", (d: Buffer) => stdout.push(d));
  const lines = createInterface({ input: child.stderr, crlfDelay: Infinity });
  lines.on("line", (line) => opts.progress.feed(line));
  const stderrDone = new Promise<void>((resolve) => lines.once("close", resolve));

  const exit = await new Promise<{ code: number; signal?: NodeJS.Signals }>((resolve, reject) => {
    child.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "ENOENT"
          ? new KilnError(`${command} is not installed or not on PATH`, "run `kiln engine setup`, or see `kiln engine status`")
          : e,
      ),
    );
    child.once("close", (code, signal) => resolve({ code: code ?? 128, signal: signal ?? undefined }));
  }).finally(forget);
  await stderrDone;

  const ok = exit.code === 0;
  opts.progress.done(ok);
  const result: EngineRunResult = { code: exit.code, stdout: Buffer.concat(stdout).toString("utf8") };
  if (!ok) {
    result.failure =
      opts.progress.failureSummary() ??
      (exit.signal ? `${command} was stopped by ${exit.signal}` : `${command} exited with code ${exit.code}`);
  }
  return result;
}
