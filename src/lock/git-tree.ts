/**
 * The git tree an exported folder makes, computed from its files as they are
 * on disk (never through git's own checkout or add, which apply attributes):
 * each file hashed as a git blob here, then the tree objects made by
 * `git write-tree` from an index of those hashes. Equal to the commit's tree
 * id, it proves the folder holds exactly the commit's bytes, modes and links,
 * whatever the cache's objects looked like.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { git } from "./git-command.ts";

interface TreeEntry {
  mode: string;
  oid: string;
  path: string;
}

/** A git blob id (sha1 of `blob <size>\0` and the bytes) of a file, streamed. */
async function blobIdOfFile(file: string, size: number): Promise<string> {
  const hash = createHash("sha1").update(`blob ${size}\0`);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function blobIdOf(bytes: Buffer): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** Files and symlinks under `dir` (not `skip`), as index entries. */
async function entriesOf(root: string, skip: string, rel = ""): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  for (const d of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${d.name}` : d.name;
    if (p === skip) continue;
    const abs = path.join(root, p);
    if (d.isDirectory()) out.push(...(await entriesOf(root, skip, p)));
    else if (d.isSymbolicLink()) out.push({ mode: "120000", oid: blobIdOf(Buffer.from(await fs.readlink(abs))), path: p });
    else if (d.isFile()) {
      const st = await fs.stat(abs);
      out.push({ mode: st.mode & 0o100 ? "100755" : "100644", oid: await blobIdOfFile(abs, st.size), path: p });
    } else out.push({ mode: "000000", oid: "0".repeat(40), path: p }); // a fifo or device: no commit holds one, the tree will differ
  }
  return out;
}

/**
 * The tree id of the checkout in `workTree` (its git folder `gitDir` is left
 * out), submodule entries (gitlinks) taken from `gitlinks` since a checkout
 * holds only an empty folder for them. Tree objects land in `gitDir`.
 */
export async function treeOfFolder(workTree: string, gitDir: string, gitlinks: TreeEntry[]): Promise<string> {
  const entries = [...(await entriesOf(workTree, path.relative(workTree, gitDir))), ...gitlinks];
  const index = path.join(gitDir, `kiln-verify-index-${process.pid}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    const info = entries.map((e) => `${e.mode} ${e.oid}\t${e.path}\0`).join("");
    let res = await git(["--git-dir", gitDir, "update-index", "-z", "--add", "--index-info"], { env, input: info });
    if (res.code !== 0) throw new Error(`git update-index: ${res.stderr.trim()}`);
    // --missing-ok: a blob hashed from changed bytes names no object, and must still give a (different) tree.
    res = await git(["--git-dir", gitDir, "write-tree", "--missing-ok"], { env });
    if (res.code !== 0) throw new Error(`git write-tree: ${res.stderr.trim()}`);
    return res.stdout.trim();
  } finally {
    await fs.rm(index, { force: true });
  }
}

/** Submodule entries (mode 160000) of `commit`'s tree: what a checkout leaves as empty folders. */
export async function gitlinksOf(gitDir: string, commit: string): Promise<TreeEntry[]> {
  const res = await git(["--git-dir", gitDir, "ls-tree", "-r", "-z", "--full-tree", commit]);
  if (res.code !== 0) throw new Error(`git ls-tree ${commit}: ${res.stderr.trim()}`);
  return res.stdout
    .split("\0")
    .filter((l) => l.startsWith("160000 "))
    .map((l) => {
      const [meta, p] = l.split("\t") as [string, string];
      const [mode, , oid] = meta.split(" ") as [string, string, string];
      return { mode, oid, path: p };
    });
}
