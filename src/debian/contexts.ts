/**
 * Locked Debian inputs -> build contexts, before the engine runs:
 *  - `set: "minbase"`: the image's context folder plus `rootfs-<arch>.tar`
 *    for each platform, so the Dockerfile is `FROM scratch` +
 *    `ADD rootfs-${TARGETARCH}.tar /`;
 *  - `set: "packages"`: a named context `debs` with one flat repository per
 *    architecture (`debs/amd64`, `debs/arm64`), see docs/debian.md.
 * The .debs are always re-verified; a rootfs is rebuilt only when no verified
 * tarball for exactly the same inputs is cached (the build is deterministic).
 */
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { LoadedImage } from "../definition/catalog.ts";
import { KilnError } from "../errors.ts";
import { type DebianLock, type Lock, snapshotToEpoch, stableStringify } from "../lock/schema.ts";
import { writeAtomic } from "../oci/store.ts";
import { cacheDir as cacheDirOf } from "../paths.ts";
import type { Settings } from "../settings/schema.ts";
import { hashBytes } from "../util/cas.ts";
import { fetchLockedDebs } from "./debs.ts";
import { makeFlatRepo } from "./flatrepo.ts";
import { debianArch } from "./minbase.ts";
import { debStore } from "./resolve.ts";
import { buildRootfs, CUSTOMIZE_HOOK, type RootfsOptions, SLIM_DPKG_OPTIONS } from "./rootfs.ts";

const run = promisify(execFile);

export interface DebianContextRequest {
  image: LoadedImage;
  lock: Lock | DebianLock | undefined;
  settings: Settings;
  platforms: readonly string[];
  /** An empty folder owned by this build. */
  workDir: string;
  log?: (line: string) => void;
}

export async function prepareDebianContexts(req: DebianContextRequest): Promise<{ contextDir?: string; namedContexts: Record<string, string> }> {
  const { image, settings, workDir } = req;
  const log = req.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const input = image.def.inputs.debian;
  const lock = req.lock && "lockVersion" in req.lock ? req.lock.debian : req.lock;
  if (!input) return { namedContexts: {} };
  if (!lock) throw new KilnError(`${image.name}: the lock has no Debian packages`, `run \`kiln lock ${image.name}\``);
  const cache = cacheDirOf(settings);
  const archs = [...new Set(req.platforms.map(debianArch))].sort();
  const epoch = snapshotToEpoch(lock.snapshot);

  if (input.set === "minbase") {
    const contextDir = path.join(workDir, "context");
    await fs.cp(path.resolve(image.dir, image.def.context), contextDir, { recursive: true, filter: (src) => path.basename(src) !== "kiln.lock.json" });
    for (const arch of archs) {
      const output = path.join(contextDir, `rootfs-${arch}.tar`);
      await cachedRootfs({ lock, arch, output, settings, cacheDir: cache, workDir, log });
      await fs.utimes(output, epoch, epoch);
    }
    return { contextDir, namedContexts: {} };
  }

  const debsDir = path.join(workDir, "debs");
  for (const arch of archs) {
    const debs = await fetchLockedDebs(lock, arch, settings, cache, { log });
    await makeFlatRepo(debs, arch, path.join(debsDir, arch), { suite: lock.suite });
  }
  await fixModes(debsDir);
  return { namedContexts: { debs: debsDir } };
}

/** The inputs that decide a rootfs tarball's bytes. */
export async function rootfsKey(lock: DebianLock, arch: string, mode: NonNullable<RootfsOptions["mode"]>): Promise<string> {
  const { stdout: mmdebstrap } = await run("mmdebstrap", ["--version"]);
  const hook = await fs.readFile(CUSTOMIZE_HOOK, "utf8");
  return hashBytes(stableStringify({ suite: lock.suite, snapshot: lock.snapshot, arch, debs: lock.packages[arch], mode, mmdebstrap: mmdebstrap.trim(), hook, slim: SLIM_DPKG_OPTIONS }));
}

async function cachedRootfs(o: { lock: DebianLock; arch: string; output: string; settings: Settings; cacheDir: string; workDir: string; log: (line: string) => void }): Promise<void> {
  // Verified .debs first, always: a tampered cache entry is reported (and replaced) even when the rootfs is cached.
  const debs = await fetchLockedDebs(o.lock, o.arch, o.settings, o.cacheDir, { log: o.log });
  // The default mode: chrootless output differs once slim path-excludes are on
  // (alternatives and diversions for excluded man pages; bench/README.md).
  const mode = "root";
  const store = debStore(o.cacheDir);
  const keyFile = path.join(o.cacheDir, "rootfs", await rootfsKey(o.lock, o.arch, mode));
  const known = await fs.readFile(keyFile, "utf8").then((s) => s.trim(), () => undefined);
  const cached = known && (await store.getVerified("sha256", known));
  if (cached) {
    o.log(`debian: rootfs for ${o.arch} from the cache (sha256 ${known})`);
    await fs.copyFile(cached, o.output);
    return;
  }
  const repo = await makeFlatRepo(debs, o.arch, path.join(o.workDir, `repo-${o.arch}`), { suite: o.lock.suite });
  o.log(`debian: building the ${o.arch} rootfs (mmdebstrap ${mode}, ${debs.size} packages)`);
  await buildRootfs({ lock: o.lock, arch: o.arch, repoDir: repo, output: o.output, mode, tmpDir: o.workDir });
  await fs.rm(repo, { recursive: true, force: true });
  const entry = await store.put(createReadStream(o.output), "sha256", undefined, `rootfs-${o.arch}.tar`);
  await fs.mkdir(path.dirname(keyFile), { recursive: true });
  await writeAtomic(keyFile, entry.hex + "\n");
  o.log(`debian: rootfs for ${o.arch}: sha256 ${entry.hex}`);
}

/**
 * Fixed modes whatever the umask. The mtimes stay fresh on purpose (as for git and download
 * contexts, docs/locks.md): BuildKit's context transfer skips a file whose size and mtime it has
 * already seen under the same context name, so two images locked at the same snapshot would get
 * the first one's `Release` (same length, same clamped mtime) beside the second one's `Packages`.
 */
async function fixModes(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await fixModes(p);
    else await fs.chmod(p, 0o644);
  }
  await fs.chmod(dir, 0o755);
}
