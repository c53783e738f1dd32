/**
 * The bill of materials of one platform's image as plain data: what the
 * image holds (src/sbom/contents.ts), each package matched to the lock that
 * pins it (its own lock or an ancestor's: a package inherited from a parent is
 * pinned by the parent's lock), and the image's git sources, downloads and
 * parents. The format writers (spdx.ts, cyclonedx.ts) only reshape this.
 */
import { PackageURL } from "packageurl-js";
import { KilnError } from "../errors.ts";
import type { Lock, LockedDeb } from "../lock/schema.ts";
import type { ImageContents } from "./contents.ts";
import { copyrightLicenses, type CopyrightLicenses } from "./licenses.ts";

/** A lock and the catalog image it belongs to. */
export interface NamedLock {
  image: string;
  lock: Lock;
}

export interface SbomPackage {
  name: string;
  version: string;
  architecture: string;
  /** sha256 of the .deb, as the lock pins it. */
  sha256: string;
  purl: string;
  /** Where the locked .deb is archived (snapshot.debian.org at the lock's snapshot). */
  downloadLocation: string;
  /** Undefined when the copyright file is missing or not machine-readable. */
  licenses?: CopyrightLicenses;
}

export interface SbomGitSource {
  name: string;
  url: string;
  ref: string;
  commit: string;
}

export interface SbomDownload {
  name: string;
  url: string;
  algorithm: "sha256" | "sha512";
  hash: string;
}

export interface SbomNpmPackage {
  /** The npm input of the definition it comes from (`parse-server`). */
  input: string;
  name: string;
  version: string;
  /** Its path in the package-lock (`node_modules/a/node_modules/b`). */
  path: string;
  url: string;
  sha512: string;
  purl: string;
}

export interface SbomParent {
  /** The name the image's definition gives the parent (`base-runtime`). */
  name: string;
  /** Catalog reference (`base:runtime`). */
  ref: string;
  index: string;
  /** The parent's manifest for this platform, when the lock pins one. */
  manifest?: string;
  /** True when the image is built on it (its layers start with the parent's), false for build stages only. */
  base: boolean;
}

export interface SbomSubject {
  /** Catalog reference, `router:image`. */
  ref: string;
  platform: string;
  /** The image's index (or single manifest) digest and this platform's manifest digest. */
  digest: string;
  manifest: string;
  /** ISO 8601 without fractions: the image's SOURCE_DATE_EPOCH. */
  created: string;
  packages: SbomPackage[];
  git: SbomGitSource[];
  downloads: SbomDownload[];
  npm: SbomNpmPackage[];
  parents: SbomParent[];
}

interface Pin {
  deb: LockedDeb;
  snapshot: string;
  suite: string;
}

const key = (name: string, version: string, arch: string) => `${name}\t${version}\t${arch}`;
const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Every Debian package the locks pin for one Debian architecture; the image's own lock comes first and wins. */
export function lockedPins(locks: NamedLock[], debianArch: string): Map<string, Pin> {
  const pins = new Map<string, Pin>();
  for (const { lock } of locks) {
    const debian = lock.debian;
    for (const deb of debian?.packages[debianArch] ?? []) {
      const k = key(deb.name, deb.version, deb.architecture);
      if (!pins.has(k)) pins.set(k, { deb, snapshot: debian!.snapshot, suite: debian!.suite });
    }
  }
  return pins;
}

export function debPurl(name: string, version: string, architecture: string, suite: string): string {
  return new PackageURL("deb", "debian", name, version, { arch: architecture, distro: suite }, undefined).toString();
}

/**
 * Each package the image holds, with the lock's sha256. A package no lock
 * pins, or whose manifest records another .deb than the lock, is an error:
 * the image was not built from these locks.
 */
export function pinnedPackages(what: string, contents: ImageContents, pins: Map<string, Pin>, refresh: string): SbomPackage[] {
  const seen = new Map<string, SbomPackage>();
  const unpinned: string[] = [];
  const mismatched: string[] = [];
  for (const p of contents.packages) {
    const k = key(p.name, p.version, p.architecture);
    if (seen.has(k)) continue;
    const pin = pins.get(k);
    if (!pin) {
      unpinned.push(`${p.name} ${p.version} (${p.architecture}, from ${p.source})`);
      continue;
    }
    if (p.sha256 && p.sha256 !== pin.deb.sha256) {
      mismatched.push(`${p.name} ${p.version} (${p.architecture}): ${p.source} records sha256 ${p.sha256}, the lock pins ${pin.deb.sha256}`);
      continue;
    }
    const copyright = contents.copyrights.get(p.name);
    const licenses = copyright === undefined ? undefined : copyrightLicenses(copyright);
    seen.set(k, {
      name: p.name,
      version: p.version,
      architecture: p.architecture,
      sha256: pin.deb.sha256,
      purl: debPurl(p.name, p.version, p.architecture, pin.suite),
      downloadLocation: `https://snapshot.debian.org/archive/${pin.deb.archive}/${pin.snapshot}/${pin.deb.path}`,
      ...(licenses ? { licenses } : {}),
    });
  }
  const hint = `the image in the store was not built from the current locks; rebuild it (${refresh})`;
  const list = (items: string[]) => items.slice(0, 5).join("; ") + (items.length > 5 ? `; and ${items.length - 5} more` : "");
  if (unpinned.length) throw new KilnError(`${what} holds ${unpinned.length} Debian package(s) no lock pins: ${list(unpinned)}`, hint);
  if (mismatched.length) throw new KilnError(`${what} holds ${mismatched.length} Debian package(s) from other .debs than the lock's: ${list(mismatched)}`, hint);
  return [...seen.values()].sort((a, b) => byName(a, b) || (a.architecture < b.architecture ? -1 : a.architecture > b.architecture ? 1 : 0) || (a.version < b.version ? -1 : 1));
}

/** The git sources of the image's lock, by name. */
export function gitSources(lock: Lock): SbomGitSource[] {
  return Object.entries(lock.git ?? {})
    .map(([name, g]) => ({ name, url: g.url, ref: g.ref, commit: g.commit }))
    .sort(byName);
}

/** The downloads of the image's lock that reach this platform: shared ones (`any`) and the platform's own. */
export function platformDownloads(lock: Lock, platform: string): SbomDownload[] {
  const out: SbomDownload[] = [];
  for (const [name, pins] of Object.entries(lock.downloads ?? {})) {
    const pin = pins[platform] ?? pins.any;
    if (!pin) continue;
    if (pin.sha256) out.push({ name, url: pin.url, algorithm: "sha256", hash: pin.sha256 });
    else if (pin.sha512) out.push({ name, url: pin.url, algorithm: "sha512", hash: pin.sha512 });
  }
  return out.sort(byName);
}

/** The package name a package-lock path ends with: `node_modules/@scope/name` -> `@scope/name`. */
export function npmPackageName(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf("node_modules/") + "node_modules/".length);
}

export function npmPurl(name: string, version: string): string {
  const slash = name.startsWith("@") ? name.indexOf("/") : -1;
  return new PackageURL("npm", slash > 0 ? name.slice(0, slash) : undefined, slash > 0 ? name.slice(slash + 1) : name, version, undefined, undefined).toString();
}

/** Every npm package the image's lock pins (each input's package-lock), ordered by input and path. */
export function npmPackages(lock: Lock): SbomNpmPackage[] {
  return Object.entries(lock.npm ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([input, l]) =>
      [...l.packages]
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
        .map((p) => {
          const name = npmPackageName(p.path);
          return { input, name, version: p.version, path: p.path, url: p.url, sha512: p.sha512, purl: npmPurl(name, p.version) };
        }),
    );
}

/** The image's parents as its lock pins them; `layersOf` gives a manifest's layer digests when the store has it. */
export function parentImages(lock: Lock, platform: string, imageLayers: string[], layersOf: (manifest: string) => string[] | undefined): SbomParent[] {
  return Object.entries(lock.parents ?? {})
    .map(([name, p]) => {
      const manifest = p.manifests[platform];
      const layers = manifest ? layersOf(manifest) : undefined;
      const base = !!layers?.length && layers.length <= imageLayers.length && layers.every((l, i) => imageLayers[i] === l);
      return { name, ref: p.ref, index: p.index, ...(manifest ? { manifest } : {}), base };
    })
    .sort(byName);
}

/** SOURCE_DATE_EPOCH (seconds) as the ISO 8601 time both formats want. */
export function isoTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
