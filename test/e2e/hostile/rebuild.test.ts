/**
 * `kiln rebuild` against a hostile registry: the image and its lock
 * attachment are pushed by someone else, and the attachment's build record
 * names a catalog whose definitions write a marker file when imported (the
 * stand-in for any code). Each case must be refused with one line naming
 * what and why, exit 1, and leave nothing behind: no marker, no clone folder
 * in kiln's temporary folder. The catalog is served for real (a `file://`
 * path and `git daemon` on loopback), so that the only thing between the
 * record and running its code is kiln's own checks.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildRecord } from "../../../src/build/attachments.ts";
import { kiln, type CliResult } from "../helpers.ts";
import { attachLock, pushTinyImage, REGISTRY } from "./registry-fixture.ts";

const when = "2025-01-01T00:00:00Z";
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "kiln", GIT_AUTHOR_EMAIL: "kiln@localhost", GIT_COMMITTER_NAME: "kiln", GIT_COMMITTER_EMAIL: "kiln@localhost", GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when };
const git = (cwd: string, args: string[]) => execFileSync("git", args, { cwd, env: gitEnv, encoding: "utf8" }).trim();

const LOCK = Buffer.from('{\n  "lockVersion": 1\n}\n');

let work: string;
let marker: string;
let evil: string;
let commit: string;
let daemon: ChildProcess | undefined;
let gitUrl: string;
let port: number;
const namespace = `kiln-hostile-rebuild-${process.pid}`;

/** A free loopback port for git daemon. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => (s.end(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`git daemon did not listen on ${port}`);
}

/** A definition that writes the marker as soon as it is imported. */
const payload = (file: string) => `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(file)}, "ran\\n");\nexport default { name: "router" };\n`;

/** Pushes a tiny image with one lock attachment saying `record`; returns `REGISTRY/REPO@sha256:...`. */
async function hostileImage(name: string, record: BuildRecord, lock = LOCK): Promise<string> {
  const repo = `${namespace}/${name}`;
  const image = await pushTinyImage(repo, "t", name);
  await attachLock(repo, image, lock, record);
  return `${REGISTRY}/${repo}@${image.digest}`;
}

/** Runs kiln with a private temporary folder, so that anything it leaves there is seen. */
async function rebuild(args: string[], config: object = {}): Promise<CliResult & { left: string[] }> {
  const tmp = await fs.mkdtemp(path.join(work, "tmp-"));
  const configFile = path.join(work, `config-${path.basename(tmp)}.json`);
  await fs.writeFile(configFile, JSON.stringify(config));
  const r = await kiln(["rebuild", ...args], { TMPDIR: tmp, KILN_CONFIG: configFile, KILN_STORE: path.join(work, "store"), KILN_CACHE_DIR: path.join(work, "cache") });
  // tsx (which runs kiln) keeps its compile cache there: not kiln's.
  return { ...r, left: (await fs.readdir(tmp)).filter((e) => !e.startsWith("tsx-")) };
}

/**
 * Refused: exit 1, one error line (the last on stderr, after kiln's progress lines) matching `line`,
 * no stack trace, nothing on stdout, no marker, nothing left in TMPDIR.
 */
function expectRefused(r: CliResult & { left: string[] }, line: RegExp): void {
  const lines = r.stderr.trim().split("\n");
  expect(lines.at(-1)).toMatch(line);
  expect(lines.filter((l) => l.startsWith("kiln: ")), r.stderr).toHaveLength(1);
  expect(lines.filter((l) => !/^(kiln: |reading the lock attached to |checking out [0-9a-f]{40} of )/.test(l)), r.stderr).toEqual([]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(existsSync(marker), "the catalog's code ran").toBe(false);
  expect(r.left).toEqual([]);
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-hostile-rebuild-"));
  marker = path.join(work, "MARKER");
  evil = path.join(work, "repos", "evil");
  await fs.mkdir(path.join(evil, "images", "router"), { recursive: true });
  await fs.mkdir(path.join(evil, "escape"), { recursive: true });
  await fs.writeFile(path.join(evil, "images", "router", "image.ts"), payload(marker));
  await fs.writeFile(path.join(evil, "images", "router", "kiln.lock.json"), LOCK);
  await fs.writeFile(path.join(evil, "escape", "image.ts"), payload(marker));
  git(evil, ["init", "-q"]);
  git(evil, ["add", "."]);
  git(evil, ["commit", "-q", "-m", "a catalog whose definitions run code"]);
  commit = git(evil, ["rev-parse", "HEAD"]);
  // A catalog that carries its own src/ (importing zod) but, as every clone, no node_modules.
  const carrier = path.join(work, "repos", "carrier");
  await fs.mkdir(path.join(carrier, "images", "router"), { recursive: true });
  await fs.mkdir(path.join(carrier, "src"), { recursive: true });
  await fs.writeFile(path.join(carrier, "src", "index.ts"), 'import { z } from "zod";\nexport const defineImage = (d: unknown) => z.object({ name: z.string() }).passthrough().parse(d);\n');
  await fs.writeFile(path.join(carrier, "images", "router", "image.ts"), 'import { defineImage } from "../../src/index.ts";\nexport default defineImage({ name: "router" });\n');
  await fs.writeFile(path.join(carrier, "images", "router", "kiln.lock.json"), LOCK);
  git(carrier, ["init", "-q"]);
  git(carrier, ["add", "."]);
  git(carrier, ["commit", "-q", "-m", "a catalog carrying its own kiln src"]);
  port = await freePort();
  daemon = spawn("git", ["daemon", "--export-all", "--reuseaddr", "--listen=127.0.0.1", `--port=${port}`, `--base-path=${path.join(work, "repos")}`, path.join(work, "repos")], { stdio: "ignore" });
  await waitForPort(port);
  gitUrl = `git://127.0.0.1:${port}/evil`;
}, 60_000);

afterAll(async () => {
  if (daemon?.pid) process.kill(daemon.pid, "SIGTERM");
  if (work) await fs.rm(work, { recursive: true, force: true });
});

const record = (source: string, over: Partial<BuildRecord> = {}): BuildRecord => ({ image: "router", target: "image", platforms: ["linux/amd64"], revision: { commit, dirty: false, source }, ...over });

describe("kiln rebuild refuses what a registry says before it clones or runs anything", () => {
  it("a lock record naming a -led catalog URL (a git option)", async () => {
    const url = `--upload-pack=touch ${marker};git-upload-pack`;
    const ref = await hostileImage("dash-url", record(url));
    expectRefused(await rebuild([ref]), new RegExp(`^kiln: the lock attached to ${ref.replace(/[.]/g, "\\.")} records the catalog URL "--upload-pack=touch .*": it starts with -, which git would read as an option; nothing was cloned or run`));
  });

  it("a lock record naming a file:// catalog whose image.ts writes a marker", async () => {
    const ref = await hostileImage("file-url", record(`file://${evil}`));
    expectRefused(await rebuild([ref]), /^kiln: the lock attached to .* records the catalog URL "file:\/\/.*": only https, ssh, git URLs are cloned from what an attachment says \(a file: URL or local path only when named with --catalog\); nothing was cloned or run/);
  });

  it("a lock record naming a reachable git:// catalog that nothing the site trusts vouches for", async () => {
    const ref = await hostileImage("untrusted", record(gitUrl));
    expectRefused(
      await rebuild([ref]),
      new RegExp(`^kiln: not rebuilding .*: its lock attachment names the catalog ${gitUrl}, and nothing the site trusts vouches for it \\(not named with --catalog, not in rebuild.trustedCatalogs, lock attachment not signed: the site has no signing.publicKey to check a signature with\\); rebuilding runs the catalog's definitions as code`),
    );
    // A trusted prefix must cover whole path segments: git://127.0.0.1:PORT/evi does not cover .../evil.
    expectRefused(await rebuild([ref], { rebuild: { trustedCatalogs: [gitUrl.slice(0, -1)] } }), /^kiln: not rebuilding /);
  });

  it("an image name with ../", async () => {
    const ref = await hostileImage("escape", record(gitUrl, { image: "../escape" }));
    expectRefused(await rebuild([ref]), /^kiln: the lock attached to .* records the image "\.\.\/escape": not a definition name \(lowercase letters, digits and dashes\); nothing was cloned or run/);
    expectRefused(await rebuild([ref, "--catalog", evil]), /records the image "\.\.\/escape": not a definition name/);
  });

  it("a revision that is not a full commit id, even with --catalog", async () => {
    const ref = await hostileImage("short-rev", record(gitUrl, { revision: { commit: "HEAD", dirty: false, source: gitUrl } }));
    expectRefused(await rebuild([ref, "--catalog", evil]), /^kiln: the lock attached to .* records the revision "HEAD": not a full commit id \(40 hex digits\)/);
  });

  it("a -led --catalog on the command line", async () => {
    const ref = await hostileImage("dash-catalog", record(gitUrl));
    expectRefused(await rebuild([ref, `--catalog=--upload-pack=touch ${marker};git-upload-pack`]), /^kiln: --catalog "--upload-pack=touch .*": it starts with -, which git would read as an option/);
  });

  it("a catalog the user or the site trusts is still compared with the attached lock before any of it is checked out or imported", async () => {
    // The attached lock is not the one at that revision: the definitions must not run to find that out.
    const ref = await hostileImage("other-lock", record(gitUrl), Buffer.from('{\n  "lockVersion": 1,\n  "other": true\n}\n'));
    const lockLine = new RegExp(`^kiln: the lock of router at ${commit} is not the one attached to .*; the image was not built from that revision of this catalog`);
    expectRefused(await rebuild([ref, "--catalog", evil]), lockLine);
    expectRefused(await rebuild([ref], { rebuild: { trustedCatalogs: [gitUrl] } }), lockLine);
    // The site's git.insteadOf applies, as for git sources in builds: a trusted https URL fetched from the site's mirror.
    const mirrored = await hostileImage("mirrored", record("https://git.example/evil"), Buffer.from('{\n  "lockVersion": 1,\n  "other": true\n}\n'));
    const viaMirror = await rebuild([mirrored], { rebuild: { trustedCatalogs: ["https://git.example/"] }, git: { insteadOf: { [`git://127.0.0.1:${port}/`]: ["https://git.example/"] } } });
    expectRefused(viaMirror, lockLine);
    expect(viaMirror.stderr).toContain(`checking out ${commit} of https://git.example/evil (listed in rebuild.trustedCatalogs)`);
  });

  it("a trusted catalog carrying its own src/ but no node_modules loads its definitions with kiln's packages", async () => {
    const carrier = path.join(work, "repos", "carrier");
    const ref = await hostileImage("carrier", record(`git://127.0.0.1:${port}/carrier`, { revision: { commit: git(carrier, ["rev-parse", "HEAD"]), dirty: false } }));
    const r = await rebuild([ref, "--catalog", carrier]);
    // Imported and validated (zod found): the definition is refused for what it lacks, not for a missing package.
    expect(r.stderr).not.toMatch(/Cannot find (package|module)/);
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^kiln: .*images\/router\/image\.ts: category: /);
    expect(r.code).toBe(1);
    expect(r.left).toEqual([]);
  });
});
