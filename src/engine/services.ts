/**
 * Starting the engine's daemons on hosts without an init system: detached
 * background processes logging to a file, waited for until they answer.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";

export const LOG_DIR = "/var/log/kiln";

/** The last lines of a log file (empty when it does not exist). */
export async function tailFile(file: string, lines = 15): Promise<string[]> {
  const text = await fsp.readFile(file, "utf8").catch(() => "");
  return text.split("\n").filter((l) => l.trim().length > 0).slice(-lines);
}

export interface ServiceSpec {
  /** Short name: log file `<name>.log`, and the word used in messages. */
  name: string;
  cmd: string;
  args: string[];
  /** Resolves true once the service answers. */
  answers: () => Promise<boolean>;
  timeoutMs: number;
  logDir?: string;
}

/**
 * Starts the service detached (it outlives kiln), then polls until it answers.
 * On timeout or early exit: prints the log's last lines and throws one line.
 */
export async function startService(spec: ServiceSpec): Promise<{ pid: number; ms: number }> {
  const started = performance.now();
  const logDir = spec.logDir ?? LOG_DIR;
  await fsp.mkdir(logDir, { recursive: true });
  const logFile = path.join(logDir, `${spec.name}.log`);
  const fd = fs.openSync(logFile, "a");
  let exited: number | null | undefined;
  let child;
  try {
    child = spawn(spec.cmd, spec.args, { detached: true, stdio: ["ignore", fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  child.once("exit", (code) => (exited = code));
  child.unref();
  const deadline = started + spec.timeoutMs;
  while (performance.now() < deadline) {
    const failed = await Promise.race([spawnError, sleep(250).then(() => undefined)]);
    if (failed) throw new KilnError(`cannot start ${spec.name} (${spec.cmd}): ${failed.message}`, "run `kiln engine setup` as root to install it");
    if (await spec.answers()) return { pid: child.pid!, ms: Math.round(performance.now() - started) };
    if (exited !== undefined) return fail(spec, logFile, `${spec.name} exited with code ${exited} right after starting`);
  }
  return fail(spec, logFile, `${spec.name} did not answer within ${Math.round(spec.timeoutMs / 1000)} s`);
}

async function fail(spec: ServiceSpec, logFile: string, message: string): Promise<never> {
  const tail = await tailFile(logFile);
  if (tail.length) process.stderr.write(`--- last lines of ${logFile} ---\n${tail.join("\n")}\n---\n`);
  throw new KilnError(message, `see ${logFile} (${spec.cmd} ${spec.args.join(" ")})`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
