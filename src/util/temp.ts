/**
 * Temporary folders that never outlive their use: removed when `fn` settles
 * (success or error) and, through `onInterrupt`, when kiln is interrupted.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { onInterrupt } from "./interrupt.ts";

/**
 * `<file>.tmp-<pid>-<random>`: unique even for two writes of the same file
 * in one process at once, and telling which process wrote it, so that
 * `removeOrphans` can sweep what a killed writer left.
 */
export function temporaryName(file: string): string {
  return `${file}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
}

const TEMPORARY = /\.tmp-(\d+)-/;

/** Removes temporary files in `dir` (as named by temporaryName, or `.tmp-<pid>-*`) whose writing process is gone. */
export async function removeOrphans(dir: string): Promise<void> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = TEMPORARY.exec(name)?.[1];
    if (pid && !isAlive(Number(pid))) await fsp.rm(path.join(dir, name), { force: true });
  }
}

/**
 * Removes the folders `<parent>/<prefix><pid>-*` whose process is gone: what
 * a run killed outright (SIGKILL, the OOM killer) left, which no handler of
 * its own could remove. Synchronous: it runs once as kiln starts.
 */
export function removeDeadOwners(parent: string, prefix: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(\d+)-/.exec(name.slice(prefix.length))?.[1];
    if (!pid || Number(pid) === process.pid || isAlive(Number(pid))) continue;
    fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
}

export interface TempDirOptions {
  /** Folder to create it in (default the system temp folder, i.e. $TMPDIR). */
  parent?: string;
  /** Mode of the folder, e.g. 0o700 for secrets. */
  mode?: number;
  /** Leave it in place once `fn` is done (it is still removed if kiln is interrupted). */
  keep?: boolean;
  /** Name it `<prefix><pid>-XXXXXX`, so that `removeDeadOwners` can sweep it once this process is gone. */
  owned?: boolean;
}

/** Creates `<parent>/<prefix>XXXXXX`, runs `fn` with it, removes it whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>, opts: TempDirOptions = {}): Promise<T> {
  const parent = opts.parent ?? os.tmpdir();
  await fsp.mkdir(parent, { recursive: true });
  const dir = await fsp.mkdtemp(path.join(parent, opts.owned ? `${prefix}${process.pid}-` : prefix));
  const forget = onInterrupt(() => fs.rmSync(dir, { recursive: true, force: true }));
  try {
    if (opts.mode !== undefined) await fsp.chmod(dir, opts.mode);
    return await fn(dir);
  } finally {
    if (!opts.keep) await fsp.rm(dir, { recursive: true, force: true });
    forget();
  }
}
