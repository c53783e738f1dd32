/**
 * The local mirrors of upstream git repositories (`../shared/upstream`, one folder per
 * repository, read-only), reached the way a site reaches its git mirror: settings
 * `git.insteadOf`, written to a config file for the tests that build from them.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { REPO } from "../e2e/helpers.ts";

export const UPSTREAM_DIR = process.env.KILN_UPSTREAM_MIRRORS ?? path.resolve(REPO, "..", "shared", "upstream");

const gitReads = (dir: string) => {
  try {
    execFileSync("git", ["ls-remote", "--", dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/**
 * A folder git fetches `name` from: the mirror itself, or, when git does not take it as a
 * repository (a copy without the empty `refs/` folder), a repository under `dir` that borrows
 * its objects (`objects/info/alternates`) and holds its refs: still read-only use of the mirror.
 */
export function mirrorFolder(name: string, dir: string): string {
  const mirror = path.join(UPSTREAM_DIR, name);
  if (!existsSync(mirror)) throw new Error(`no upstream mirror ${mirror} (set KILN_UPSTREAM_MIRRORS)`);
  if (gitReads(mirror)) return mirror;
  const view = path.join(dir, "upstream", name);
  if (!gitReads(view)) {
    mkdirSync(path.dirname(view), { recursive: true });
    execFileSync("git", ["init", "--quiet", "--bare", view]);
    writeFileSync(path.join(view, "objects/info/alternates"), path.join(mirror, "objects") + "\n");
    for (const f of ["packed-refs", "shallow"]) if (existsSync(path.join(mirror, f))) copyFileSync(path.join(mirror, f), path.join(view, f));
  }
  return view;
}

/** A site config file that rewrites each upstream URL to its mirror folder; returns its path. */
export function mirrorConfig(dir: string, mirrors: Record<string, string>): string {
  const insteadOf = Object.fromEntries(Object.entries(mirrors).map(([name, url]) => [mirrorFolder(name, dir), [url]]));
  const file = path.join(dir, "mirrors.json");
  writeFileSync(file, JSON.stringify({ git: { insteadOf } }, null, 2) + "\n");
  return file;
}
