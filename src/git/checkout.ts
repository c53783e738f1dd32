/**
 * A catalog at one revision, in a folder of its own: cloned from a git URL
 * or a local repository, checked out detached at that commit.
 */
import { KilnError } from "../errors.ts";
import { run } from "../util/run.ts";

const quiet = { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };

/**
 * Clones `catalog` into `dir` (an empty folder) and checks out `revision`.
 * The clone's origin is then `source` (the URL the build recorded), or none:
 * the images' source label comes from it, and must be what the build saw.
 */
export async function checkoutRevision(catalog: string, revision: string, dir: string, source?: string): Promise<void> {
  const cloned = await run("git", ["clone", "--quiet", "--no-checkout", catalog, dir], { what: `git clone ${catalog}`, env: quiet, allowFailure: true });
  if (cloned.code !== 0) {
    const last = cloned.stderr.trim().split("\n").pop() ?? "";
    throw new KilnError(`cannot clone the catalog ${catalog}: ${last.replace(/^fatal: /, "")}`, "pass a git URL or a local clone with --catalog");
  }
  const found = await run("git", ["cat-file", "-e", `${revision}^{commit}`], { what: "git cat-file", cwd: dir, env: quiet, allowFailure: true });
  if (found.code !== 0) throw new KilnError(`revision ${revision} is not in the catalog ${catalog}`, "pass the repository the image was built from with --catalog (a clone holding that commit)");
  await run("git", ["checkout", "--quiet", "--detach", revision], { what: `git checkout ${revision}`, cwd: dir, env: quiet });
  await run("git", ["remote", "remove", "origin"], { what: "git remote remove", cwd: dir, env: quiet });
  if (source) await run("git", ["remote", "add", "origin", source], { what: "git remote add", cwd: dir, env: quiet });
}
