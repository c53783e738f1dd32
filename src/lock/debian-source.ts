/**
 * Debian source packages in the lock (`inputs.debianSource`): resolution and
 * fetching belong to the Debian room; this adapter maps a definition onto its
 * calls and makes the build context `source-<name>`:
 *   files/<name>                          the .dsc and every file it lists, verified
 *   build-deps/<buildarch>-<targetarch>/  a flat repository of the locked build-dependencies
 *                                         and `packages.list` (`name:arch` per line) to install
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { LoadedImage } from "../definition/catalog.ts";
import type { ImageDefinition } from "../definition/schema.ts";
import { fetchDebs } from "../debian/debs.ts";
import { makeFlatRepo } from "../debian/flatrepo.ts";
import { dpkgStatusInImage } from "../debian/installed.ts";
import { debianArch } from "../debian/minbase.ts";
import { debStore } from "../debian/resolve.ts";
import { type BuildStatus, fetchSourceFiles, resolveSourcePackage } from "../debian/source-resolve.ts";
import { checkDscAgainstIndex } from "../debian/sources.ts";
import { KilnError } from "../errors.ts";
import { OciStore } from "../oci/store.ts";
import { cacheDir, storeDir } from "../paths.ts";
import type { Settings } from "../settings/schema.ts";
import { hashBytes } from "../util/cas.ts";
import { settingsAtSnapshot } from "./debian.ts";
import { debianArchitectures, imagePlatforms } from "./declared.ts";
import { type DebianSourceLock, type Lock, stableStringify } from "./schema.ts";

export type DebianSourceDefinition = ImageDefinition["inputs"]["debianSource"][string];

/**
 * Per build architecture, what the build starts from: the `onTopOf` parent's
 * dpkg status for every platform it is locked for, else nothing installed on
 * each of the image's architectures.
 */
async function buildStatus(image: LoadedImage, decl: DebianSourceDefinition, parents: Lock["parents"], settings: Settings): Promise<BuildStatus> {
  if (!decl.onTopOf) return Object.fromEntries(debianArchitectures(imagePlatforms(image.def)).map((a) => [a, ""]));
  const pin = parents?.[decl.onTopOf];
  if (!pin) throw new KilnError(`${image.name}: inputs.debianSource onTopOf names ${decl.onTopOf}, which is not a pinned parent`, `add it to parents and run \`kiln lock ${image.name}\``);
  const store = await OciStore.open(storeDir(settings));
  const status: BuildStatus = {};
  for (const [platform, digest] of Object.entries(pin.manifests).sort()) {
    if (!(await store.hasBlob(digest))) continue;
    status[debianArch(platform)] = await dpkgStatusInImage(store, digest, `parent ${decl.onTopOf} (${pin.ref}, ${platform})`);
  }
  if (!Object.keys(status).length) throw new KilnError(`${image.name}: parent ${decl.onTopOf} (${pin.ref}) is in the local store for no platform`, `build it first: kiln build ${pin.ref}`);
  return status;
}

/**
 * Resolves one source package; when the result pins exactly what `previous`
 * pins, `previous` is kept (snapshot included), as for Debian packages.
 */
export async function resolveDebianSource(image: LoadedImage, name: string, settings: Settings, opts: { snapshot?: string; previous?: DebianSourceLock; parents?: Lock["parents"] }): Promise<DebianSourceLock> {
  const decl = image.def.inputs.debianSource[name]!;
  if (settings.offline) throw new KilnError(`offline: cannot resolve the Debian source package ${name} of ${image.name}`, "resolving needs the signed indices from the mirror; run without --offline");
  const status = await buildStatus(image, decl, opts.parents, settings);
  const targets = debianArchitectures(imagePlatforms(image.def));
  const resolved = await resolveSourcePackage(decl, targets, status, settingsAtSnapshot(settings, opts.snapshot), cacheDir(settings));
  if (decl.onTopOf) resolved.onTopOfSha256 = hashBytes(stableStringify(status));
  const old = opts.previous;
  const same = old && !opts.snapshot && stableStringify({ ...old, snapshot: "" }) === stableStringify({ ...resolved, snapshot: "" });
  return same ? old : resolved;
}

/** Problems of one locked source package against its declaration (for `lock --check` and before builds). */
export function debianSourceProblems(image: LoadedImage, name: string, decl: DebianSourceDefinition, pin: DebianSourceLock): { state: "stale" | "unpinned"; message: string }[] {
  const out: { state: "stale" | "unpinned"; message: string }[] = [];
  const what = `Debian source ${name}`;
  if (pin.package !== decl.package || pin.suite !== decl.suite) out.push({ state: "stale", message: `${what}: ${decl.package} (${decl.suite}) declared, ${pin.package} (${pin.suite}) locked` });
  else if (decl.version && pin.version !== decl.version) out.push({ state: "stale", message: `${what}: version ${decl.version} declared, ${pin.version} locked` });
  else if (
    pin.request.version !== decl.version ||
    pin.request.onTopOf !== decl.onTopOf ||
    pin.request.profiles.join(",") !== decl.profiles.join(",") ||
    (pin.request.buildDependsFor ?? "target") !== decl.buildDependsFor
  ) {
    out.push({ state: "stale", message: `${what}: the request (version, profiles, onTopOf, buildDependsFor) changed since the lock was made` });
  }
  const targets = debianArchitectures(imagePlatforms(image.def));
  const missing = Object.entries(pin.buildDepends).flatMap(([b, perTarget]) => targets.filter((t) => !perTarget[t]).map((t) => `${b}->${t}`));
  if (!Object.keys(pin.buildDepends).length || missing.length) out.push({ state: "unpinned", message: `${what}: build-dependencies not locked for ${missing.join(", ") || "any build architecture"}` });
  return out;
}

/** The `source-<name>` contexts for the platforms being built, every file verified against the lock. */
export async function prepareDebianSources(req: { image: LoadedImage; lock: Lock; settings: Settings; platforms: readonly string[]; workDir: string }): Promise<Record<string, string>> {
  const contexts: Record<string, string> = {};
  const cache = cacheDir(req.settings);
  const log = (line: string) => process.stderr.write(line + "\n");
  const targets = [...new Set(req.platforms.map(debianArch))].sort();
  for (const name of Object.keys(req.image.def.inputs.debianSource).sort()) {
    const pin = req.lock.debianSource![name]!;
    const dest = path.join(req.workDir, `source-${name}`);
    const files = await fetchSourceFiles(pin, debStore(cache), req.settings, log);
    checkDscAgainstIndex(await fs.readFile(files.get(pin.files[0]!.name)!, "utf8"), pin);
    await fs.mkdir(path.join(dest, "files"), { recursive: true });
    for (const [file, cached] of files) await fs.copyFile(cached, path.join(dest, "files", file));
    for (const [buildArch, perTarget] of Object.entries(pin.buildDepends).sort()) {
      for (const target of targets) {
        const debs = perTarget[target];
        if (!debs) throw new KilnError(`Debian source ${name}: no build-dependencies locked for ${target} built on ${buildArch}`, `run \`kiln refresh ${req.image.name}\``);
        const repo = path.join(dest, "build-deps", `${buildArch}-${target}`);
        await makeFlatRepo(await fetchDebs(debs, buildArch, req.settings, cache, { log }), buildArch, repo, { suite: pin.suite });
        const list = debs.map((d) => (d.architecture === "all" ? d.name : `${d.name}:${d.architecture}`));
        await fs.writeFile(path.join(repo, "packages.list"), list.map((l) => l + "\n").join(""));
      }
    }
    contexts[`source-${name}`] = dest;
  }
  return contexts;
}
