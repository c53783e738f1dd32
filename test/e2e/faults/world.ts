/**
 * The fault tier's world: a copy of the fixture catalog (broken + faults),
 * a private store, cache and temp folder per test file, and kiln started the
 * way a terminal starts it (its own process group, so Ctrl-C can be sent to
 * the whole group), with its output watched line by line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { brokenCatalog } from "../../support/broken-catalog.ts";
import { REPO, tempEnv } from "../helpers.ts";

export interface World {
  dir: string;
  catalog: string;
  store: string;
  cacheDir: string;
  /** kiln's $TMPDIR: whatever kiln leaves in its temp folder is seen here, and only kiln's. */
  tmpdir: string;
  env: NodeJS.ProcessEnv;
}

export async function faultWorld(name: string): Promise<World> {
  const { dir, env } = await tempEnv(`faults-${name}`);
  const catalog = await brokenCatalog(path.join(dir, "catalog"), {}, ["faults"]);
  const tmpdir = path.join(dir, "tmp");
  await fs.mkdir(tmpdir);
  const config = path.join(dir, "config.json");
  await fs.writeFile(config, "{}\n");
  return { dir, catalog, store: env.KILN_STORE!, cacheDir: env.KILN_CACHE_DIR!, tmpdir, env: { ...env, KILN_CATALOG: catalog, KILN_CONFIG: config, TMPDIR: tmpdir } };
}

export interface Running {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves when a line of stdout or stderr matches (rejects if kiln exits first). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `bin/kiln` in its own process group (as a shell does for a foreground job). */
export function startKiln(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(path.join(REPO, "bin", "kiln"), args, { env: { ...process.env, ...env }, cwd: REPO, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  let err = "";
  const watchers: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  const check = () => {
    for (const w of [...watchers]) {
      const line = (out + err).split("\n").find((l) => w.pattern.test(l));
      if (line !== undefined) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on("data", (d: Buffer) => ((out += d.toString()), check()));
  child.stderr!.on("data", (d: Buffer) => ((err += d.toString()), check()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
  return {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitFor: (pattern, timeoutMs = 300_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
        const done = (l: string) => (clearTimeout(timer), resolve(l));
        watchers.push({ pattern, resolve: done });
        check();
        void exit.then(() => setTimeout(() => reject(new Error(`kiln exited before printing ${pattern}; stderr:\n${err}`)), 50));
      }),
  };
}

/** What a user must never see: a stack trace or an internal error. */
export const NO_TRACE = /internal error|\n\s+at .*\.ts:\d+|Error: .*\n\s+at /;
