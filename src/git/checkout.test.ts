import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkoutCommit, cloneCatalog, fileAtCommit, gitSafetyArgs, neutralGitEnv, resolveCommit } from "./checkout.ts";

describe("neutralGitEnv", () => {
  it("drops what configures git from the environment and points the global config at nothing", () => {
    const env = neutralGitEnv({ PATH: "/bin", HOME: "/home/u", GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "core.hooksPath", GIT_CONFIG_VALUE_0: "/evil", GIT_CONFIG_PARAMETERS: "'a.b'='c'", GIT_DIR: "/x", GIT_SSH_COMMAND: "ssh -i k" });
    expect(env).toEqual({ PATH: "/bin", HOME: "/home/u", GIT_SSH_COMMAND: "ssh -i k", GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "/bin/false", LC_ALL: "C" });
  });
});

describe("gitSafetyArgs", () => {
  it("allows only the transports named, with hooks off and objects checked", () => {
    const args = gitSafetyArgs(["https", "ssh"]);
    expect(args.filter((a) => a !== "-c")).toEqual(["protocol.allow=never", "protocol.https.allow=always", "protocol.ssh.allow=always", "core.hooksPath=/dev/null", "core.fsmonitor=false", "transfer.fsckObjects=true", "submodule.recurse=false"]);
  });
});

describe("a catalog clone (real git, a local repository)", () => {
  let work: string;
  let repo: string;
  let commit: string;
  const env = { ...process.env, GIT_AUTHOR_NAME: "k", GIT_AUTHOR_EMAIL: "k@l", GIT_COMMITTER_NAME: "k", GIT_COMMITTER_EMAIL: "k@l" };
  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-checkout-test-"));
    repo = path.join(work, "repo");
    await fs.mkdir(path.join(repo, "images", "x"), { recursive: true });
    await fs.writeFile(path.join(repo, "images", "x", "kiln.lock.json"), "{}\n");
    execFileSync("git", ["init", "-q"], { cwd: repo, env });
    execFileSync("git", ["add", "."], { cwd: repo, env });
    execFileSync("git", ["commit", "-q", "-m", "x"], { cwd: repo, env });
    commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo, encoding: "utf8" }).trim();
  });
  afterAll(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  it("refuses the file transport unless allowed", async () => {
    const dir = path.join(work, "refused");
    await expect(cloneCatalog({ url: repo, fetchUrl: repo, transports: ["https"] }, dir)).rejects.toThrow(/^cannot clone the catalog .*: transport 'file' not allowed$/);
  });

  it("reads the lock from git's objects before anything is checked out, then checks out the commit", async () => {
    const c = { url: repo, fetchUrl: repo, transports: ["file"] };
    const dir = path.join(work, "clone");
    await cloneCatalog(c, dir);
    expect(await resolveCommit(c, dir, "HEAD")).toBe(commit);
    await expect(resolveCommit(c, dir, "--output=/tmp/x")).rejects.toThrow(/^revision --output=\/tmp\/x is not in the catalog/);
    expect((await fileAtCommit(dir, commit, "images/x/kiln.lock.json"))?.toString()).toBe("{}\n");
    expect(await fileAtCommit(dir, commit, "images/y/kiln.lock.json")).toBeUndefined();
    expect(existsSync(path.join(dir, "images"))).toBe(false);
    await checkoutCommit(dir, commit, "https://git.example/kiln");
    expect(existsSync(path.join(dir, "images", "x", "kiln.lock.json"))).toBe(true);
    expect(execFileSync("git", ["remote", "get-url", "origin"], { cwd: dir, encoding: "utf8" }).trim()).toBe("https://git.example/kiln");
  });
});
