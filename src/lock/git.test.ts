import fs from "node:fs/promises";
import path from "node:path";
import { deflateSync, inflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KilnError } from "../errors.ts";
import { LocalRepo, tempDir } from "../../test/support/lock-fixtures.ts";
import { ensureCommit, exportCommit, mirrorDir, resolveGitRef, rewriteGitUrl } from "./git.ts";

describe("git sources", () => {
  let root: string;
  let repo: LocalRepo;
  let first: string;
  let second: string;

  beforeAll(async () => {
    root = await tempDir();
    repo = await LocalRepo.create(path.join(root, "upstream"));
    first = await repo.commit({ "README": "one\n", "bin/run.sh": "#!/bin/sh\necho one\n" });
    repo.tag("v1");
    repo.tag("v1-annotated", "release one");
    second = await repo.commit({ "README": "two\n" });
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it("resolves tags (annotated ones peeled), branches and full commits", async () => {
    expect(await resolveGitRef("src", repo.url, "v1")).toBe(first);
    expect(await resolveGitRef("src", repo.url, "v1-annotated")).toBe(first);
    expect(await resolveGitRef("src", repo.url, "main")).toBe(second);
    expect(await resolveGitRef("src", repo.url, first)).toBe(first);
  });

  it("names the source and the ref when the ref does not exist", async () => {
    await expect(resolveGitRef("src", repo.url, "v9")).rejects.toThrow(/git source src: ref "v9" not found in file:\/\//);
  });

  it("refuses to resolve offline", async () => {
    await expect(resolveGitRef("src", repo.url, "v1", true)).rejects.toThrow(/offline: cannot resolve git source src/);
  });

  it("mirrors once, exports the exact commit without .git, and refuses unknown commits", async () => {
    const cacheDir = path.join(root, "cache");
    const fix = "run `kiln refresh x`";
    const mirror = await ensureCommit({ name: "src", url: repo.url, commit: first, cacheDir, offline: false, fix });
    expect(mirror).toBe(mirrorDir(cacheDir, repo.url));
    const dest = path.join(root, "out");
    await exportCommit(mirror, first, dest, "src");
    expect(await fs.readFile(path.join(dest, "README"), "utf8")).toBe("one\n");
    expect(await fs.readFile(path.join(dest, "bin/run.sh"), "utf8")).toContain("echo one");
    await expect(fs.stat(path.join(dest, ".git"))).rejects.toThrow();

    // Already cached: works offline.
    await expect(ensureCommit({ name: "src", url: repo.url, commit: first, cacheDir, offline: true, fix })).resolves.toBe(mirror);
    const missing = "0123456789abcdef0123456789abcdef01234567";
    await expect(ensureCommit({ name: "src", url: repo.url, commit: missing, cacheDir, offline: false, fix })).rejects.toThrow(
      `git source src: locked commit ${missing} does not exist in ${repo.url}`,
    );
    await expect(ensureCommit({ name: "src", url: repo.url, commit: missing, cacheDir, offline: true, fix })).rejects.toThrow(/offline: git source src commit 0123/);
  });

  it("serialises concurrent mirror fills", async () => {
    const cacheDir = path.join(root, "cache-concurrent");
    const fix = "";
    const all = await Promise.all([first, second, first].map((commit) => ensureCommit({ name: "src", url: repo.url, commit, cacheDir, offline: false, fix })));
    expect(new Set(all).size).toBe(1);
  });

  it("rewrites URLs like git's insteadOf: the longest matching prefix wins", () => {
    const rules = { "/srv/mirrors/": ["https://github.com/"], "/srv/buildkit.git": ["https://github.com/moby/buildkit"], "https://other/": [""] };
    expect(rewriteGitUrl("https://github.com/moby/buildkit", rules)).toBe("/srv/buildkit.git");
    expect(rewriteGitUrl("https://github.com/caddyserver/caddy.git", rules)).toBe("/srv/mirrors/caddyserver/caddy.git");
    expect(rewriteGitUrl("https://gitlab.com/x/y", rules)).toBe("https://gitlab.com/x/y");
    expect(rewriteGitUrl("https://github.com/x", {})).toBe("https://github.com/x");
  });

  it("fetches from a shallow site mirror through insteadOf and keeps the cache under the upstream URL", async () => {
    const upstream = "https://git.invalid/upstream/src";
    const shallow = path.join(root, "shallow.git");
    repo.git("clone", "--quiet", "--bare", "--depth", "1", "--branch", "v1", repo.url, shallow);
    const insteadOf = { [shallow]: [upstream] };
    expect(await resolveGitRef("src", upstream, "v1", false, insteadOf)).toBe(first);
    const cacheDir = path.join(root, "cache-mirror");
    const mirror = await ensureCommit({ name: "src", url: upstream, commit: first, cacheDir, offline: false, fix: "", insteadOf });
    expect(mirror).toBe(mirrorDir(cacheDir, upstream));
    const dest = path.join(root, "out-mirror");
    await exportCommit(mirror, first, dest, "src");
    expect(await fs.readFile(path.join(dest, "README"), "utf8")).toBe("one\n");
    // Without the rewrite the upstream is unreachable, and the message names both URLs when the mirror lacks the commit.
    await expect(resolveGitRef("src", upstream, "v1")).rejects.toThrow(/cannot list https:\/\/git.invalid\/upstream\/src:/);
    await expect(ensureCommit({ name: "src", url: upstream, commit: second, cacheDir, offline: false, fix: "", insteadOf })).rejects.toThrow(
      `locked commit ${second} does not exist in ${upstream} (via ${shallow})`,
    );
  });
});

/** Rewrites a loose object of `gitDir` with one byte of its content flipped (the zlib stream stays valid). */
export async function corruptLooseObject(gitDir: string, oid: string, at: (content: Buffer) => number): Promise<void> {
  const file = path.join(gitDir, "objects", oid.slice(0, 2), oid.slice(2));
  const raw = inflateSync(await fs.readFile(file));
  const body = raw.indexOf(0) + 1;
  raw[body + at(raw.subarray(body))]! ^= 0x01;
  await fs.chmod(file, 0o644);
  await fs.writeFile(file, deflateSync(raw));
}

describe("git exports", () => {
  let root: string;
  let repo: LocalRepo;

  beforeAll(async () => {
    root = await tempDir();
    repo = await LocalRepo.create(path.join(root, "upstream"));
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it("are the commit's bytes, modes and links whatever the tree's .gitattributes ask for", async () => {
    await repo.commit({ "crlf.txt": "one\r\ntwo\r\n", "lf.txt": "id: $Id$\n", "run.sh": "#!/bin/sh\n" });
    repo.git("update-index", "--chmod=+x", "run.sh");
    await fs.symlink("lf.txt", path.join(repo.dir, "link"));
    repo.git("add", "link");
    repo.git("commit", "--quiet", "-m", "link");
    // Attributes added alone after the files: the blobs keep the bytes above.
    await fs.writeFile(path.join(repo.dir, ".gitattributes"), "*.txt text eol=crlf ident\n* filter=nope\n");
    repo.git("add", ".gitattributes");
    repo.git("commit", "--quiet", "-m", "attributes");
    const commit = repo.git("rev-parse", "HEAD");
    expect(repo.git("cat-file", "blob", `${commit}:crlf.txt`)).toBe("one\r\ntwo");
    const mirror = await ensureCommit({ name: "src", url: repo.url, commit, cacheDir: path.join(root, "cache"), offline: false, fix: "" });
    const dest = path.join(root, "out");
    await exportCommit(mirror, commit, dest, "src");
    expect(await fs.readFile(path.join(dest, "crlf.txt"), "utf8")).toBe("one\r\ntwo\r\n");
    expect(await fs.readFile(path.join(dest, "lf.txt"), "utf8")).toBe("id: $Id$\n");
    expect((await fs.stat(path.join(dest, "run.sh"))).mode & 0o100).toBe(0o100);
    expect(await fs.readlink(path.join(dest, "link"))).toBe("lf.txt");
    expect((await fs.readdir(dest)).sort()).toEqual([".gitattributes", "crlf.txt", "lf.txt", "link", "run.sh"]);
  });

  it("refuse a cached object whose bytes changed, naming the mirror to remove, and leave no folder", async () => {
    const commit = await repo.commit({ "README": "the genuine text\n" });
    const cacheDir = path.join(root, "cache-corrupt");
    const mirror = await ensureCommit({ name: "src", url: repo.url, commit, cacheDir, offline: false, fix: "" });
    const blob = repo.git("rev-parse", `${commit}:README`);
    await corruptLooseObject(mirror, blob, () => 4);
    const dest = path.join(root, "out-corrupt");
    const err = await exportCommit(mirror, commit, dest, "src").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).toLine()).toMatch(
      new RegExp(`^git source src: the files exported for commit ${commit} make tree [0-9a-f]{40}, the commit's tree is ${repo.git("rev-parse", `${commit}^{tree}`)}; the cached mirror ${mirror} is damaged: remove it \\(rm -rf ${mirror}\\) and run again to fetch it afresh$`),
    );
    await expect(fs.access(dest)).rejects.toThrow();
  });
});
