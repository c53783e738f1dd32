/**
 * Git sources: resolving a ref to a full commit (`git ls-remote`), keeping a
 * bare mirror per repository in the cache, and exporting the locked commit as
 * a plain folder (no .git) for a named build context. Git runs with a neutral
 * configuration (git-command.ts); the cache is not trusted: every export is
 * checked against the locked commit's tree (git-tree.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import lockfile from "proper-lockfile";
import { KilnError } from "../errors.ts";
import { lastLine } from "./command.ts";
import { git } from "./git-command.ts";
import { gitlinksOf, treeOfFolder } from "./git-tree.ts";

const COMMIT = /^[0-9a-f]{40}$/;
/**
 * What info/attributes says for every path of an export: no line-ending
 * conversion, no `$Id$` expansion, no filter, no re-encoding. It outranks the
 * tree's own .gitattributes, so the files are the commit's bytes.
 */
const AS_STORED = "* -text -eol -crlf -ident -filter -working-tree-encoding\n";

/** Site URL rewrites (settings `git.insteadOf`): base -> the URL prefixes fetched from that base instead. */
export type GitInsteadOf = Readonly<Record<string, readonly string[]>>;

/**
 * The URL kiln fetches `url` from: git's `url.<base>.insteadOf` rule, the
 * longest matching prefix wins. Locks and labels keep the upstream URL; only
 * fetches go to the rewritten one.
 */
export function rewriteGitUrl(url: string, insteadOf: GitInsteadOf = {}): string {
  let best: { base: string; prefix: string } | undefined;
  for (const [base, prefixes] of Object.entries(insteadOf)) {
    for (const prefix of prefixes) {
      if (prefix && url.startsWith(prefix) && prefix.length > (best?.prefix.length ?? -1)) best = { base, prefix };
    }
  }
  return best ? best.base + url.slice(best.prefix.length) : url;
}

/** `url`, or `url (via <rewritten>)` when a site rewrite applies: messages name both. */
function shown(url: string, fetchUrl: string): string {
  return fetchUrl === url ? url : `${url} (via ${fetchUrl})`;
}

/**
 * The full commit a ref points to on the remote. Tags win over branches
 * (annotated tags are peeled to their commit); a full commit id is taken as is.
 */
export async function resolveGitRef(name: string, url: string, ref: string, offline = false, insteadOf?: GitInsteadOf): Promise<string> {
  if (COMMIT.test(ref)) return ref;
  if (offline) throw new KilnError(`offline: cannot resolve git source ${name} (${url} ${ref})`, "resolving refs needs the network; run without --offline");
  const candidates = [`refs/tags/${ref}^{}`, `refs/tags/${ref}`, `refs/heads/${ref}`, `${ref}^{}`, ref];
  const fetchUrl = rewriteGitUrl(url, insteadOf);
  const res = await git(["ls-remote", "--", fetchUrl, ...candidates]);
  if (res.code !== 0) throw new KilnError(`git source ${name}: cannot list ${shown(url, fetchUrl)}: ${lastLine(res.stderr)}`, "check the URL, the site's git.insteadOf rewrites and your access to it");
  const found = new Map<string, string>();
  for (const line of res.stdout.split("\n")) {
    const [commit, refName] = line.split("\t");
    if (commit && refName) found.set(refName, commit);
  }
  for (const c of candidates) {
    const commit = found.get(c);
    if (commit) return commit;
  }
  throw new KilnError(`git source ${name}: ref "${ref}" not found in ${shown(url, fetchUrl)}`, "name an existing tag, branch or full commit in the definition");
}

/** Where the bare mirror of `url` (the upstream URL, whichever site mirror fills it) lives in the cache. */
export function mirrorDir(cacheDir: string, url: string): string {
  return path.join(cacheDir, "git", createHash("sha256").update(url).digest("hex").slice(0, 32));
}

async function hasCommit(mirror: string, commit: string): Promise<boolean> {
  const res = await git(["--git-dir", mirror, "cat-file", "-t", commit]);
  return res.code === 0 && res.stdout.trim() === "commit";
}

/**
 * Makes sure the mirror of `url` holds `commit`, fetching only when it does
 * not. Mirror updates are serialised by an inter-process lock; the commit is
 * then kept by a ref of its own so that moved tags or gc never drop it.
 */
export async function ensureCommit(opts: { name: string; url: string; commit: string; cacheDir: string; offline: boolean; fix: string; insteadOf?: GitInsteadOf }): Promise<string> {
  const { name, url, commit } = opts;
  const fetchUrl = rewriteGitUrl(url, opts.insteadOf);
  const mirror = mirrorDir(opts.cacheDir, url);
  if (await hasCommit(mirror, commit)) return mirror;
  if (opts.offline) throw new KilnError(`offline: git source ${name} commit ${commit} (${url}) is not in the cache (${mirror})`, "run the build once with network access to fill the cache");
  await fs.mkdir(path.dirname(mirror), { recursive: true });
  const release = await lockfile.lock(mirror, { realpath: false, stale: 120_000, retries: { retries: 600, minTimeout: 100, maxTimeout: 1000 } });
  try {
    if (await hasCommit(mirror, commit)) return mirror;
    if (!(await fs.stat(path.join(mirror, "HEAD")).catch(() => undefined))) await initMirror(mirror);
    // --update-shallow: a shallow site mirror (one release's history) still hands out its refs.
    let res = await git(["--git-dir", mirror, "fetch", "--quiet", "--force", "--no-tags", "--update-shallow", "--", fetchUrl, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]);
    if (res.code !== 0) throw new KilnError(`git source ${name}: cannot fetch ${shown(url, fetchUrl)}: ${lastLine(res.stderr)}`, "check the URL, the site's git.insteadOf rewrites and your access to it");
    // An unadvertised commit: servers that allow it hand it out by id.
    if (!(await hasCommit(mirror, commit))) res = await git(["--git-dir", mirror, "fetch", "--quiet", "--update-shallow", "--", fetchUrl, commit]);
    if (!(await hasCommit(mirror, commit))) {
      throw new KilnError(`git source ${name}: locked commit ${commit} does not exist in ${shown(url, fetchUrl)}`, `the history was rewritten or the lock edited; ${opts.fix}`);
    }
    await git(["--git-dir", mirror, "update-ref", `refs/kiln/${commit}`, commit]);
    return mirror;
  } finally {
    await release();
  }
}

async function initMirror(mirror: string): Promise<void> {
  const tmp = `${mirror}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const res = await git(["init", "--quiet", "--bare", tmp]);
  if (res.code !== 0) throw new Error(`git init ${tmp}: ${res.stderr}`);
  await git(["--git-dir", tmp, "config", "gc.auto", "0"]);
  await fs.rm(mirror, { recursive: true, force: true });
  await fs.rename(tmp, mirror);
}

/**
 * Checks `commit` out of the mirror into `dest` (which must not exist) with
 * every attribute transformation off, proves the files are the commit's (the
 * tree they make is the commit's tree), and removes the .git folder. The clone
 * shares the mirror's objects read-only, so concurrent exports cannot disturb
 * it. A damaged cache is refused, naming the mirror to remove; `dest` is
 * removed then, so nothing built from it remains.
 */
export async function exportCommit(mirror: string, commit: string, dest: string, name: string): Promise<void> {
  const damaged = `the cached mirror ${mirror} is damaged: remove it (rm -rf ${mirror}) and run again to fetch it afresh`;
  try {
    let res = await git(["clone", "--quiet", "--shared", "--no-checkout", "--", mirror, dest]);
    if (res.code !== 0) throw new Error(`git clone of ${mirror}: ${res.stderr}`);
    const gitDir = path.join(dest, ".git");
    await fs.mkdir(path.join(gitDir, "info"), { recursive: true });
    await fs.writeFile(path.join(gitDir, "info", "attributes"), AS_STORED);
    res = await git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit], { cwd: dest });
    if (res.code !== 0) throw new KilnError(`git source ${name}: cannot check out ${commit}: ${lastLine(res.stderr)}`, damaged);
    // rev-parse reads the commit object hash-checked: the tree id it gives is the commit's own.
    res = await git(["--git-dir", gitDir, "rev-parse", "--verify", "--quiet", `${commit}^{tree}`]);
    if (res.code !== 0) throw new KilnError(`git source ${name}: commit ${commit} cannot be read from the cache: ${lastLine(res.stderr) || "no such commit"}`, damaged);
    const expected = res.stdout.trim();
    const actual = await treeOfFolder(dest, gitDir, await gitlinksOf(gitDir, commit));
    if (actual !== expected) throw new KilnError(`git source ${name}: the files exported for commit ${commit} make tree ${actual}, the commit's tree is ${expected}`, damaged);
    await fs.rm(gitDir, { recursive: true, force: true });
  } catch (e) {
    await fs.rm(dest, { recursive: true, force: true });
    throw e;
  }
}
