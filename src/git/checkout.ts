/**
 * A catalog at one revision, in a folder of its own: cloned from a git URL
 * or a local repository, checked out detached at that commit.
 *
 * git runs here on URLs and revisions that may come from a registry, so it
 * runs with nothing of the host's or the user's configuration (no hooks,
 * filters, credential helpers or URL rewrites from ~/.gitconfig or
 * /etc/gitconfig), only the transports the caller allows, `--` before every
 * URL and path, and with objects checked as they arrive. The site's own
 * rewrites (settings `git.insteadOf`) apply, as for git sources in builds.
 */
import { KilnError } from "../errors.ts";
import { run } from "../util/run.ts";

/** The environment git runs with: the process's, less anything that configures git, plus a neutral config. */
export function neutralGitEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!/^GIT_(CONFIG|DIR$|WORK_TREE$|INDEX_FILE$|OBJECT_DIRECTORY$|ALTERNATE_OBJECT_DIRECTORIES$|NAMESPACE$|EXEC_PATH$|TEMPLATE_DIR$)/.test(k)) out[k] = v;
  return { ...out, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "/bin/false", LC_ALL: "C" };
}

/** `-c` options for every git call here: the transports allowed, no hooks, objects checked on arrival. */
export function gitSafetyArgs(transports: readonly string[]): string[] {
  return [
    "-c", "protocol.allow=never",
    ...transports.flatMap((t) => ["-c", `protocol.${t}.allow=always`]),
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "transfer.fsckObjects=true",
    "-c", "submodule.recurse=false",
  ];
}

export interface CatalogClone {
  /** The URL as the user or the attachment named it (for messages and the trust decision). */
  url: string;
  /** What git fetches: `url` after the site's `git.insteadOf` rewrites. */
  fetchUrl: string;
  /** The transports git may use (`https`, `ssh`, `git`, and `file` when allowed). */
  transports: readonly string[];
}

function shown(c: CatalogClone): string {
  return c.fetchUrl === c.url ? c.url : `${c.url} (via ${c.fetchUrl})`;
}

async function git(dir: string | undefined, args: string[], transports: readonly string[], what: string) {
  return run("git", [...gitSafetyArgs(transports), ...args], { what, cwd: dir, env: neutralGitEnv(), allowFailure: true });
}

function lastLine(stderr: string): string {
  return (stderr.trim().split("\n").pop() ?? "").replace(/^(fatal|error): /, "");
}

/** Clones the catalog into `dir` (an empty folder) without checking anything out: nothing of it is on disk as files yet. */
export async function cloneCatalog(c: CatalogClone, dir: string): Promise<void> {
  const cloned = await git(undefined, ["clone", "--quiet", "--no-checkout", "--", c.fetchUrl, dir], c.transports, `git clone ${c.url}`);
  if (cloned.code !== 0) throw new KilnError(`cannot clone the catalog ${shown(c)}: ${lastLine(cloned.stderr)}`, "pass a git URL or a local clone with --catalog");
}

/** The full commit id `revision` names in the clone at `dir`. */
export async function resolveCommit(c: CatalogClone, dir: string, revision: string): Promise<string> {
  const found = await git(dir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${revision}^{commit}`], c.transports, "git rev-parse");
  const commit = found.stdout.toString("utf8").trim();
  if (found.code !== 0 || !/^[0-9a-f]{40}$/.test(commit)) {
    throw new KilnError(`revision ${revision} is not in the catalog ${shown(c)}`, "pass the repository the image was built from with --catalog (a clone holding that commit)");
  }
  return commit;
}

/** A file's bytes at `commit` (`git cat-file blob COMMIT:PATH`), read from the object database; undefined when the commit has no such file. */
export async function fileAtCommit(dir: string, commit: string, file: string): Promise<Buffer | undefined> {
  const r = await git(dir, ["cat-file", "blob", `${commit}:${file}`], [], `git cat-file ${file}`);
  return r.code === 0 ? r.stdout : undefined;
}

/**
 * Checks `commit` out (detached) into the clone's work tree. The clone's
 * origin is then `source` (the URL the build recorded), or none: the images'
 * source label comes from it, and must be what the build saw.
 */
export async function checkoutCommit(dir: string, commit: string, source?: string): Promise<void> {
  const step = async (args: string[], what: string) => {
    const r = await git(dir, args, [], what);
    if (r.code !== 0) throw new KilnError(`${what} failed in ${dir}: ${lastLine(r.stderr)}`);
  };
  await step(["checkout", "--quiet", "--detach", commit, "--"], `git checkout ${commit}`);
  await step(["remote", "remove", "origin"], "git remote remove");
  if (source) await step(["remote", "add", "--", "origin", source], "git remote add");
}
