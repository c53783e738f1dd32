/**
 * Shared fixtures for the base and router end-to-end tests: one private store
 * and cache (kept between test files, so the router test reuses the base images
 * the base test built), builds through the real CLI, and reading layers from the store.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import tar from "tar-stream";
import { OciStore, type OciIndex, type OciManifest } from "../../src/oci/store.ts";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { kiln, REPO, runCommand } from "./helpers.ts";
import { familyMemoKey, kilnSourceDigestOnce } from "../support/kiln-source.ts";

export interface Built {
  ref: string;
  digest: string;
  manifests: Record<string, string>;
  pushed: { ref: string; digest: string }[];
  loaded: string[];
}

/**
 * The family's store and cache (KILN_E2E_FAMILY_DIR, else a fixed folder under
 * the temp dir), and a copy of the catalog in a git repository of its own, so
 * that pinning parents never writes into this checkout's locks.
 *
 * An image's labels name the last commit that touched its folder. The copy
 * gives each image folder a root commit of its own (fixed identity and date,
 * holding that folder only), joined by one merge: the same files give the
 * same labels and digests in every test process, and a change to one image
 * relabels that image alone (its children follow through their parent pins),
 * as commits do in a real catalog. One commit of everything would relabel,
 * and so rebuild, the whole family whenever any image's files differ.
 */
export function familyEnv(): NodeJS.ProcessEnv {
  const dir = process.env.KILN_E2E_FAMILY_DIR ?? path.join(os.tmpdir(), "kiln-e2e-family");
  const catalog = path.join(dir, `catalog-${process.pid}`);
  if (!existsSync(catalog)) {
    mkdirSync(catalog, { recursive: true });
    cpSync(path.join(REPO, "images"), path.join(catalog, "images"), { recursive: true });
    symlinkSync(path.join(REPO, "src"), path.join(catalog, "src"));
    const when = "2025-01-01T00:00:00Z";
    const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "kiln", GIT_AUTHOR_EMAIL: "kiln@localhost", GIT_COMMITTER_NAME: "kiln", GIT_COMMITTER_EMAIL: "kiln@localhost", GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when };
    const git = (args: string[], env: NodeJS.ProcessEnv = gitEnv) => execFileSync("git", args, { cwd: catalog, env, encoding: "utf8" }).trim();
    git(["init", "-q"]);
    const roots: string[] = [];
    for (const name of readdirSync(path.join(catalog, "images")).sort()) {
      const index = { ...gitEnv, GIT_INDEX_FILE: path.join(catalog, ".git", `index-${name}`) };
      git(["add", `images/${name}`], index);
      roots.push(git(["commit-tree", git(["write-tree"], index), "-m", `images/${name}`]));
      rmSync(index.GIT_INDEX_FILE);
    }
    git(["add", "images"]);
    git(["update-ref", "HEAD", git(["commit-tree", git(["write-tree"]), ...roots.flatMap((r) => ["-p", r]), "-m", "catalog"])]);
  }
  return { KILN_STORE: path.join(dir, "store"), KILN_CACHE_DIR: path.join(dir, "cache"), KILN_CATALOG: catalog };
}

/**
 * Builds one catalog image after pinning its parents to what the store holds now (as `kiln build --with-parents` does).
 * A plain build (no flags but `--platform`) whose inputs (`kiln status`: definition, lock, context, parents'
 * digests, settings, engine; and kiln's own source) are those of an earlier one in this family store is not run again: every test
 * file asks for the base images, and exporting an unchanged builder still costs a minute.
 */
export async function build(env: NodeJS.ProcessEnv, ref: string, extra: string[] = []): Promise<Built> {
  const pinned = await kiln(["refresh", ref.split(":")[0]!, "--only", "image"], env);
  if (pinned.code !== 0) throw new Error(`kiln refresh ${ref} --only image failed (${pinned.code}): ${pinned.stderr}`);
  const plain = extra.every((a, i) => a === "--platform" || extra[i - 1] === "--platform");
  const memo = plain ? await builtBefore(env, ref, extra) : undefined;
  if (memo?.built) return memo.built;
  const r = await kiln(["build", ref, "--json", "--progress", "quiet", ...extra], env);
  if (r.code !== 0) throw new Error(`kiln build ${ref} ${extra.join(" ")} failed (${r.code}): ${r.stderr.slice(-3000)}`);
  const built = JSON.parse(r.stdout) as Built;
  if (plain) await memo!.remember(built);
  return built;
}

/** The memo of plain family builds: one file per ref and flags, holding the inputs digest it was built from. */
async function builtBefore(env: NodeJS.ProcessEnv, ref: string, extra: string[]) {
  const full = ref.includes(":") ? ref : `${ref}:image`;
  // The image folder's last commit too: it is the image's revision label, which `kiln status` does not count.
  const head = execFileSync("git", ["log", "-1", "--format=%H", "--", `images/${full.split(":")[0]}`], { cwd: env.KILN_CATALOG!, encoding: "utf8" }).trim();
  const status = await kiln(["status", ref, "--json"], env);
  const entry = (JSON.parse(status.code === 0 || status.code === 1 ? status.stdout || "[]" : "[]") as { ref: string; inputs?: string }[]).find((e) => e.ref === full);
  // Building the image changes none of its inputs: what they are now is what it is built from.
  // kiln's own source is an input too: a broken build path must not pass on images an older kiln made.
  const kilnSource = kilnSourceDigestOnce(REPO);
  const inputs = entry?.inputs && familyMemoKey(entry.inputs, head, kilnSource);
  // Memos live under the kiln source digest: a folder kept between runs never offers a stale one.
  const memoDir = path.join(path.dirname(env.KILN_STORE!), "built", kilnSource.slice("sha256:".length, "sha256:".length + 16));
  const file = path.join(memoDir, `${full.replace(":", "-")}${extra.join("")}.json`.replace(/[^\w.-]/g, "_"));
  let built: Built | undefined;
  try {
    const seen = JSON.parse(await fs.readFile(file, "utf8")) as { inputs: string; built: Built };
    const store = await OciStore.open(env.KILN_STORE!);
    if (inputs && seen.inputs === inputs && (await store.hasBlob(seen.built.digest))) built = seen.built;
  } catch {
    // never built here, or a memo from another layout: build
  }
  return {
    built,
    remember: async (b: Built) => {
      if (!inputs) return;
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, JSON.stringify({ inputs, built: b }));
    },
  };
}

/** Builds the parents the router needs (amd64 is the build platform: builder and auditor only run there). */
export async function buildBase(env: NodeJS.ProcessEnv): Promise<void> {
  await build(env, "debian");
  await build(env, "base:runtime");
  await build(env, "base:auditor", ["--platform", "linux/amd64"]);
  await build(env, "base:builder", ["--platform", "linux/amd64"]);
}

export interface LayerEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname?: string;
}

export interface PlatformImage {
  manifest: OciManifest;
  config: { config: { User?: string; Entrypoint?: string[]; Env?: string[]; Healthcheck?: { Test: string[] }; ExposedPorts?: Record<string, unknown> }; history?: { created_by?: string; empty_layer?: boolean }[] };
  /** Compressed size of all layers. */
  compressed: number;
  /** The file system: later layers win (no whiteouts in these images). */
  files: Map<string, LayerEntry>;
  read(name: string): Promise<Buffer | undefined>;
}

export async function readImage(env: NodeJS.ProcessEnv, indexDigest: string, platform: string): Promise<PlatformImage> {
  const store = await OciStore.open(env.KILN_STORE!);
  const top = await store.readJson<OciIndex | OciManifest>(indexDigest);
  // A one-platform build stores the platform's manifest itself, not an index of one.
  let manifest: OciManifest;
  if ("manifests" in top) {
    const desc = top.manifests.find((m) => `${m.platform?.os}/${m.platform?.architecture}` === platform);
    if (!desc) throw new Error(`${indexDigest} has no ${platform}`);
    manifest = await store.readJson<OciManifest>(desc.digest);
  } else manifest = top;
  const config = await store.readJson<PlatformImage["config"]>(manifest.config.digest);
  const files = new Map<string, LayerEntry>();
  const contents = new Map<string, Buffer>();
  for (const layer of manifest.layers) {
    const bytes = gunzipSync(await fs.readFile(store.blobPath(layer.digest)));
    await new Promise<void>((resolve, reject) => {
      const extract = tar.extract();
      extract.on("entry", (h, stream, next) => {
        const name = h.name.replace(/^\.?\//, "").replace(/\/$/, "");
        files.set(name, { name, type: h.type ?? "file", mode: h.mode ?? 0, uid: h.uid ?? 0, gid: h.gid ?? 0, size: h.size ?? 0, linkname: h.linkname ?? undefined });
        const chunks: Buffer[] = [];
        stream.on("data", (c: unknown) => {
          if (h.size !== undefined && h.size < 1_000_000) chunks.push(c as Buffer);
        });
        stream.on("end", () => {
          if (chunks.length) contents.set(name, Buffer.concat(chunks));
          next();
        });
        stream.resume();
      });
      extract.on("finish", resolve);
      extract.on("error", reject);
      extract.end(bytes);
    });
  }
  return {
    manifest,
    config,
    compressed: manifest.layers.reduce((n, l) => n + l.size, 0),
    files,
    read: async (name) => contents.get(name),
  };
}

/** Paths that must never be in a runtime image. */
export const FORBIDDEN_IN_RUNTIME = [
  /^usr\/bin\/(apt|apt-get|dpkg|dpkg-deb|perl|gcc|cc|c\+\+|g\+\+|ld|as|make|go|git|curl|wget)$/,
  /^usr\/bin\/[a-z0-9_-]+-linux-gnu[a-z]*-(gcc|ld|as)(-\d+)?$/,
  /^usr\/lib\/go/,
  /^var\/lib\/dpkg(\/|$)/,
  /^var\/lib\/apt\/lists\/./,
  /^var\/cache\/apt\/./,
  /^usr\/share\/perl/,
  /^usr\/lib\/gcc(-cross)?\//,
];

/** Waits until `docker inspect` reports the container healthy, or throws with its log. */
export async function waitHealthy(name: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let status = "";
  while (Date.now() < until) {
    status = (await runCommand("docker", ["inspect", "-f", "{{.State.Health.Status}}", name])).stdout.trim();
    if (status === "healthy") return;
    if (status === "unhealthy") break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const logs = await runCommand("docker", ["logs", "--tail", "20", name]);
  throw new Error(`${name} is ${status || "not running"}: ${logs.stdout}${logs.stderr}`);
}

/** The host port docker published for a container port. */
export async function hostPort(name: string, port: number): Promise<number> {
  const out = (await runCommand("docker", ["port", name, `${port}/tcp`])).stdout;
  const m = /127\.0\.0\.1:(\d+)/.exec(out);
  if (!m) throw new Error(`${name}: port ${port} is not published (${out})`);
  return Number(m[1]);
}

/** The client-test marks (without their messages) under one heading of `kiln test` output, e.g. `samba:image linux/amd64`. */
export function clientProofs(out: string, heading: string): string[] {
  let subject = "";
  const marks: string[] = [];
  for (const line of out.split("\n")) {
    if (/^\S/.test(line)) subject = line;
    else if (subject === heading && /^ {2}[✓✗] client-test /.test(line)) marks.push(line.slice(0, line.indexOf(":")).trim());
  }
  return marks;
}

/**
 * The platforms an experimental image's e2e file proves with `kiln test`: amd64 in CI, both with
 * KILN_E2E_ALL_PLATFORMS=1 (the nightly run beside `kiln verify --all`). Under qemu an arm64 database
 * initialises and restarts in minutes, not seconds: CI's budget goes to building both platforms instead.
 */
export function proofPlatforms(): string[] {
  return process.env.KILN_E2E_ALL_PLATFORMS === "1" ? ["linux/amd64", "linux/arm64"] : ["linux/amd64"];
}

/** `kiln test` flags for `proofPlatforms()`. */
export function proofPlatformFlags(): string[] {
  return proofPlatforms().flatMap((p) => ["--platform", p]);
}
