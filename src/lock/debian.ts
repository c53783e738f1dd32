/**
 * Debian packages in the lock: resolution and preparation belong to the
 * Debian room (src/debian); this adapter maps a definition onto its calls.
 */
import type { LoadedImage } from "../definition/catalog.ts";
import { prepareDebianContexts, type DebianContextRequest } from "../debian/contexts.ts";
import { installedInImage } from "../debian/installed.ts";
import { debianArch, type InstalledPackage } from "../debian/minbase.ts";
import type { ReleaseFloor } from "../debian/release-floor.ts";
import { resolveDebian } from "../debian/resolve.ts";
import { OciStore } from "../oci/store.ts";
import { KilnError } from "../errors.ts";
import { cacheDir, storeDir } from "../paths.ts";
import { hashBytes } from "../util/cas.ts";
import type { Settings } from "../settings/schema.ts";
import { debianArchitectures, imagePlatforms } from "./declared.ts";
import { type DebianLock, type Lock, type ParentLock, stableStringify } from "./schema.ts";

/**
 * Mirrors that serve the archive as it was at `snapshot` (snapshot.debian.org);
 * `latest` or nothing keeps the configured mirrors.
 */
export function settingsAtSnapshot(settings: Settings, snapshot?: string): Settings {
  if (!snapshot || snapshot === "latest") return settings;
  const at = (archive: string) => `https://snapshot.debian.org/archive/${archive}/${snapshot}/`;
  return { ...settings, apt: { ...settings.apt, mirrors: [at("debian")], securityMirrors: [at("debian-security")], checkValidUntil: false } };
}

/**
 * Resolves the declared package set for every architecture of the image.
 * When the result installs exactly what the previous lock installs, the
 * previous lock is kept, snapshot included: a newer Release file alone does
 * not change what goes into the image, so it must not change the lock either.
 * A kept lock that does not record its InRelease dates yet (made before kiln
 * recorded them) gets today's, once. InRelease files older than the previous
 * lock's are refused, unless a snapshot is named: that goes back on purpose.
 */
export async function resolveDebianInput(image: LoadedImage, settings: Settings, opts: { snapshot?: string; previous?: DebianLock; parents?: Lock["parents"] }): Promise<DebianLock> {
  const request = image.def.inputs.debian;
  if (!request) throw new KilnError(`${image.name} declares no Debian packages`);
  if (settings.offline) throw new KilnError(`offline: cannot resolve the Debian packages of ${image.name}`, "resolving needs the signed indices from the mirror; run without --offline");
  const platforms = imagePlatforms(image.def);
  const installed = request.onTopOf ? await parentPackages(image, request.onTopOf, opts.parents?.[request.onTopOf], platforms, settings) : undefined;
  const old = opts.previous;
  const floor = old && !opts.snapshot ? releaseFloor(old, request, `images/${image.name}/kiln.lock.json`) : undefined;
  const resolved = await resolveDebian(request, debianArchitectures(platforms), settingsAtSnapshot(settings, opts.snapshot), cacheDir(settings), { installed, floor });
  if (installed) resolved.onTopOfSha256 = packageSetSha256(installed);
  const world = (l: DebianLock) => stableStringify({ ...l, snapshot: "", releaseDates: undefined });
  const sameWorld = old && !opts.snapshot && world(old) === world(resolved);
  if (!sameWorld) return resolved;
  return old.releaseDates ? old : { ...old, releaseDates: resolved.releaseDates };
}

/** What a previous lock says about the InRelease dates it was made from; its snapshot counts only for the same suites. */
export function releaseFloor(old: DebianLock, request: { suite: string; fromSuites?: Record<string, string[]> }, lockFile: string): ReleaseFloor {
  const suites = (r: { suite: string; fromSuites?: Record<string, unknown> }) => [r.suite, ...Object.keys(r.fromSuites ?? {}).sort()].join(" ");
  const sameSuites = suites({ suite: old.suite, fromSuites: old.request.fromSuites }) === suites(request);
  return { suites: old.releaseDates ?? {}, newest: sameSuites ? old.snapshot : undefined, lockFile };
}

/**
 * Whether the `onTopOf` parent pinned in `parents` holds another package set
 * than the one `previous` was resolved on: only then must the closure be taken again.
 */
export async function parentPackagesChanged(image: LoadedImage, settings: Settings, previous: DebianLock, parents: Lock["parents"]): Promise<boolean> {
  const onTopOf = image.def.inputs.debian?.onTopOf;
  if (!onTopOf) return false;
  const installed = await parentPackages(image, onTopOf, parents?.[onTopOf], imagePlatforms(image.def), settings);
  return previous.onTopOfSha256 !== packageSetSha256(installed);
}

const packageSetSha256 = (installed: Record<string, InstalledPackage[]>) => hashBytes(stableStringify(installed));

/** Per Debian architecture, the packages the locked parent image holds (read from the store by digest). */
async function parentPackages(image: LoadedImage, parent: string, pin: ParentLock | undefined, platforms: readonly string[], settings: Settings): Promise<Record<string, InstalledPackage[]>> {
  if (!pin) throw new KilnError(`${image.name}: inputs.debian.onTopOf names ${parent}, which is not pinned`, `run \`kiln lock ${image.name}\``);
  const store = await OciStore.open(storeDir(settings));
  const out: Record<string, InstalledPackage[]> = {};
  for (const platform of platforms) {
    const digest = pin.manifests[platform];
    if (!digest || !(await store.hasBlob(digest))) throw new KilnError(`${image.name}: parent ${parent} (${pin.ref}) for ${platform} is not in the local store at ${pin.index}`, `build it first: kiln build ${pin.ref}`);
    out[debianArch(platform)] = await installedInImage(store, digest, `parent ${parent} (${pin.ref}, ${platform})`);
  }
  return out;
}

/** The Debian contexts (a rootfs context, or flat repositories as `debs`); the Debian room verifies every .deb. */
export async function prepareDebianInput(req: DebianContextRequest): Promise<{ contextDir?: string; namedContexts: Record<string, string> }> {
  return prepareDebianContexts(req);
}
