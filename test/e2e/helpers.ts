/** Shared fixtures for end-to-end tests: the kiln CLI, temporary catalogs and stores, small rootfs tarballs. */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export const REPO = path.resolve(import.meta.dirname, "../..");
const KILN = path.join(REPO, "bin", "kiln");
export const SCHEMA_IMPORT = path.join(REPO, "src", "index.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** An empty site config, so tests never read the user's. */
const EMPTY_CONFIG = path.join(os.tmpdir(), "kiln-test-empty-config.json");

/** Runs `bin/kiln` as a user would. */
export async function kiln(args: string[], env: NodeJS.ProcessEnv = {}, cwd = REPO): Promise<CliResult> {
  // Written aside and renamed: test files run side by side, and a kiln starting meanwhile must never read it half-written.
  const aside = `${EMPTY_CONFIG}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await fs.writeFile(aside, "{}\n");
  await fs.rename(aside, EMPTY_CONFIG);
  return runCommand(KILN, args, { ...process.env, KILN_CONFIG: EMPTY_CONFIG, ...env }, cwd);
}

export function runCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = REPO): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export async function mustRun(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await runCommand(cmd, args, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** A private store and cache for one test file, so tests never touch the user's. */
export async function tempEnv(prefix: string): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `kiln-${prefix}-`));
  return { dir, env: { KILN_STORE: path.join(dir, "store"), KILN_CACHE_DIR: path.join(dir, "cache") } };
}

/** Writes a catalog (files relative to its root); `image.ts` files may use `{{kiln}}` for the library import. */
export async function writeCatalog(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, typeof content === "string" ? content.replaceAll("{{kiln}}", SCHEMA_IMPORT) : content);
  }
}

/**
 * A minbase rootfs tarball with extra packages, made with mmdebstrap from the
 * Debian mirror; kept between runs under ~/.cache/kiln-test (keyed by its
 * arguments) because it is a fixture, not the thing under test.
 */
export async function fixtureRootfs(packages: string[], arch = "amd64"): Promise<string> {
  const key = createHash("sha256").update(JSON.stringify({ packages, arch, v: 1 })).digest("hex").slice(0, 16);
  const dir = path.join(os.homedir(), ".cache", "kiln-test");
  const tar = path.join(dir, `rootfs-${arch}-${key}.tar`);
  if (await fs.stat(tar).then(() => true, () => false)) return tar;
  await fs.mkdir(dir, { recursive: true });
  const partial = `${tar}.partial-${process.pid}`;
  await mustRun("mmdebstrap", [
    "--quiet",
    "--format=tar",
    "--variant=minbase",
    `--architectures=${arch}`,
    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    `--include=${packages.join(",")}`,
    "--aptopt=APT::Install-Recommends false",
    "bookworm",
    partial,
    "http://deb.debian.org/debian",
  ], { ...process.env, SOURCE_DATE_EPOCH: "1735689600" });
  await fs.rename(partial, tar);
  return tar;
}

/** The digest a registry serves for a tag (HEAD on the manifest). */
export async function registryDigest(registry: string, repo: string, tag: string): Promise<string | undefined> {
  const accept = ["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json"];
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, { method: "HEAD", headers: { Accept: accept.join(", ") } });
  return res.ok ? (res.headers.get("docker-content-digest") ?? undefined) : undefined;
}
