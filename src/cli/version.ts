/**
 * `kiln --version`: the package version and the commit of the kiln checkout that runs, with
 * whether it has uncommitted changes, so a build log says exactly which kiln made an image.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { neutralGitEnv } from "../git/checkout.ts";
import { REPO_ROOT } from "../paths.ts";
import { run } from "../util/run.ts";

export interface KilnVersion {
  version: string;
  /** The checkout's HEAD; absent when kiln does not run from a git checkout of its own. */
  commit?: string;
  /** Tracked files differ from that commit (as `git describe --dirty` counts). */
  dirty?: boolean;
}

async function git(root: string, args: string[]): Promise<string | undefined> {
  const r = await run("git", ["-C", root, ...args], { what: `git ${args[0]}`, env: { ...neutralGitEnv(), GIT_OPTIONAL_LOCKS: "0" }, allowFailure: true }).catch(() => undefined);
  return r?.code === 0 ? r.stdout.toString("utf8").trim() : undefined;
}

export async function kilnVersion(root = REPO_ROOT): Promise<KilnVersion> {
  const pkg = JSON.parse(await fs.readFile(path.join(root, "package.json"), "utf8")) as { version: string };
  // Only a repository whose top is kiln's own folder: kiln installed inside someone's project has no commit of its own.
  const top = await git(root, ["rev-parse", "--show-toplevel"]);
  if (!top || path.resolve(top) !== path.resolve(root)) return { version: pkg.version };
  const commit = await git(root, ["rev-parse", "--verify", "--quiet", "HEAD"]);
  if (!commit) return { version: pkg.version };
  const status = await git(root, ["status", "--porcelain", "--untracked-files=no"]);
  return { version: pkg.version, commit, dirty: status === undefined ? undefined : status !== "" };
}

export function describeVersion(v: KilnVersion): string {
  if (!v.commit) return `kiln ${v.version} (not run from a git checkout: no commit to report)`;
  const state = v.dirty === undefined ? "changes unknown" : v.dirty ? "dirty: uncommitted changes" : "clean";
  return `kiln ${v.version} (commit ${v.commit}, ${state})`;
}
