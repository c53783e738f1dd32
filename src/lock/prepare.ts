/**
 * From lock to build contexts, before the engine runs. First every refusal
 * (unpinned or stale pins, a commit the repository does not have, bytes that
 * hash differently, a parent missing from the store), so that a refused build
 * has started nothing; then the contexts:
 *   git-<name>            the source tree at the locked commit, without .git
 *   downloads/<arch>/<n>  every download for every platform being built
 *   downloads/<n>         downloads with one URL for all platforms, too
 *   debs, context         the Debian room's (a flat repo; a rootfs context)
 * Files get fixed modes, so the contexts do not depend on the umask. Their
 * mtimes are left as they are (fresh): BuildKit's context transfer skips files
 * whose size and mtime it has seen before, so fixed mtimes would let changed
 * bytes of the same size go unseen; rewrite-timestamp clamps them in the image.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { LoadedImage } from "../definition/catalog.ts";
import { KilnError } from "../errors.ts";
import { OciStore } from "../oci/store.ts";
import { cacheDir, storeDir } from "../paths.ts";
import type { Settings } from "../settings/schema.ts";
import { lockRefusal } from "./check.ts";
import { prepareDebianInput } from "./debian.ts";
import { prepareDebianSources } from "./debian-source.ts";
import { prepareNpm } from "./npm.ts";
import { archOf, ANY_PLATFORM, fetchToCache, keyFor } from "./download.ts";
import { ensureCommit, exportCommit } from "./git.ts";
import { contentStore } from "./resolve.ts";
import type { Lock } from "./schema.ts";
import { findKeyFile, verifyDetachedSignature } from "./signature.ts";

export interface PrepareRequest {
  image: LoadedImage;
  lock: Lock | undefined;
  settings: Settings;
  platforms: readonly string[];
  /** An empty folder owned by this build; contexts are made inside it. */
  workDir: string;
}

export interface PreparedInputs {
  /** Replaces the definition's context folder (a Debian rootfs image). */
  contextDir?: string;
  /** Named build context -> folder. */
  namedContexts: Record<string, string>;
}

interface VerifiedDownload {
  name: string;
  key: string;
  file: string;
}

export async function prepareInputs(req: PrepareRequest): Promise<PreparedInputs> {
  const { image, lock, settings } = req;
  const fix = `run \`kiln refresh ${image.name}\``;

  // 1. Refusals: the lock must pin exactly what the definition declares.
  const refused = await lockRefusal(image, lock);
  if (refused) throw refused;
  // An image without external inputs has no lock: nothing is pinned, nothing to prepare.
  const pinned: Lock = lock ?? { lockVersion: 1, image: image.name };

  // 2. Every pinned input present and verified (fetched into the cache when needed).
  const cache = cacheDir(settings);
  const mirrors: Record<string, string> = {};
  for (const [name, g] of Object.entries(pinned.git ?? {})) {
    if (!(name in image.def.inputs.git)) continue;
    mirrors[name] = await ensureCommit({ name, url: g.url, commit: g.commit, cacheDir: cache, offline: settings.offline, fix, insteadOf: settings.git.insteadOf });
  }
  const downloads = await verifyDownloads(req, pinned, fix);
  if (pinned.parents && Object.keys(image.def.parents).length) {
    const store = await OciStore.open(storeDir(settings));
    for (const [name, p] of Object.entries(pinned.parents)) {
      if (!(await store.hasBlob(p.index))) {
        throw new KilnError(`parent ${name} (${p.ref}) locked at ${p.index} is not in the local store`, `rebuild it (kiln build ${p.ref}) or ${fix}`);
      }
    }
  }
  const debian = image.def.inputs.debian ? await prepareDebianInput({ ...req, lock: pinned }) : { namedContexts: {} };
  const sources = await prepareDebianSources({ ...req, lock: pinned });
  const npm = await prepareNpm({ ...req, lock: pinned });

  // 3. The contexts.
  const namedContexts: Record<string, string> = { ...debian.namedContexts, ...sources, ...npm };
  for (const [name, mirror] of Object.entries(mirrors).sort()) {
    const dest = path.join(req.workDir, `git-${name}`);
    await exportCommit(mirror, pinned.git![name]!.commit, dest, name);
    await normalizeModes(dest);
    namedContexts[`git-${name}`] = dest;
  }
  if (Object.keys(image.def.inputs.downloads).length) {
    const dest = path.join(req.workDir, "downloads");
    for (const d of downloads) {
      const target = d.key === ANY_PLATFORM ? path.join(dest, d.name) : path.join(dest, archOf(d.key), d.name);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.copyFile(d.file, target);
    }
    await fs.mkdir(dest, { recursive: true });
    await normalizeModes(dest);
    namedContexts.downloads = dest;
  }
  return { contextDir: debian.contextDir, namedContexts };
}

/** Each download every requested platform needs, verified against its pin (and its signature). */
async function verifyDownloads(req: PrepareRequest, lock: Lock, fix: string): Promise<VerifiedDownload[]> {
  const store = contentStore(req.settings);
  const out: VerifiedDownload[] = [];
  for (const [name, def] of Object.entries(req.image.def.inputs.downloads).sort()) {
    const entries = lock.downloads![name]!;
    for (const platform of req.platforms) {
      const key = keyFor(entries, platform);
      if (!key) throw new KilnError(`download ${name} has no URL for ${platform}`, `add one to the definition of ${req.image.name}, then ${fix}`);
      const pin = entries[key]!;
      const what = `download ${name} (${key})`;
      const algorithm = pin.sha512 ? "sha512" : "sha256";
      const data = await fetchToCache({ store, url: pin.url, algorithm, expected: pin[algorithm], what, offline: req.settings.offline, fix });
      if (def.signature && pin.signature) {
        const sig = await fetchToCache({ store, url: pin.signature.url, algorithm: "sha256", expected: pin.signature.sha256, what: `signature of ${what}`, offline: req.settings.offline, fix });
        const keyFile = await findKeyFile(req.image.dir, pin.signature.fingerprint);
        await verifyDetachedSignature({ what, dataFile: data.path, sigFile: sig.path, keyFile, fingerprint: pin.signature.fingerprint });
      }
      // Platforms that share one URL share one file: `downloads/<name>`, plus `downloads/<arch>/<name>`.
      if (key === ANY_PLATFORM && !out.some((d) => d.name === name && d.key === key)) out.push({ name, key, file: data.path });
      out.push({ name, key: platform, file: data.path });
    }
  }
  return out;
}

/** Fixed permissions (files 0644 or 0755, folders 0755): the same tree whatever the umask. */
async function normalizeModes(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await normalizeModes(p);
    else if (entry.isFile()) {
      const { mode } = await fs.stat(p);
      await fs.chmod(p, mode & 0o111 ? 0o755 : 0o644);
    }
  }
  await fs.chmod(dir, 0o755);
}
