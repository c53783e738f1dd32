/**
 * Getting the locked .debs of one architecture onto disk: from the content
 * cache (re-hashed on every use), else from the configured mirrors, each file
 * accepted only when its sha256 is the locked one.
 */
import { KilnError } from "../errors.ts";
import type { DebianLock, LockedDeb } from "../lock/schema.ts";
import type { Settings } from "../settings/schema.ts";
import { fetchIntoStore } from "./download.ts";
import { debianArch } from "./minbase.ts";
import { debStore } from "./resolve.ts";
import type { ContentStore } from "../util/cas.ts";

export interface FetchOptions {
  log?: (line: string) => void;
  /** Parallel downloads. */
  concurrency?: number;
}

export function debFileName(deb: LockedDeb): string {
  return `${deb.name}_${deb.version.replace(/^\d+:/, "")}_${deb.architecture}.deb`;
}

/** The key a deb has in the returned map: its name, or `name:arch` for a foreign architecture. */
export function debKey(deb: LockedDeb, arch: string): string {
  return deb.architecture === arch || deb.architecture === "all" ? deb.name : `${deb.name}:${deb.architecture}`;
}

export async function fetchLockedDebs(lock: DebianLock, arch: string, settings: Settings, cacheDir: string, options: FetchOptions = {}): Promise<Map<string, string>> {
  const debArch = debianArch(arch);
  const debs = lock.packages[debArch];
  if (!debs || debs.length === 0) throw new KilnError(`the Debian lock has no packages for ${debArch}`, "run `kiln lock` for this image with that platform");
  return fetchDebs(debs, debArch, settings, cacheDir, options);
}

/** The verified files of `debs` (keyed as `debKey` says for `debArch`), from the cache or the mirrors. */
export async function fetchDebs(debs: LockedDeb[], debArch: string, settings: Settings, cacheDir: string, options: FetchOptions = {}): Promise<Map<string, string>> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const store = debStore(cacheDir);
  const result = new Map<string, string>();
  const queue = [...debs];
  let fetched = 0;
  const worker = async () => {
    for (let deb = queue.shift(); deb; deb = queue.shift()) {
      const got = await fetchPoolFile(store, deb, `${deb.name} ${deb.version} (${deb.architecture})`, settings, log);
      if (got.fetched) fetched++;
      result.set(debKey(deb, debArch), got.path);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  if (fetched > 0) log(`debian: fetched ${fetched} of ${debs.length} locked packages for ${debArch}`);
  return new Map([...result].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * One pool file (a .deb, a .dsc, a source tarball) from the cache, re-hashed, else
 * from the mirrors of its archive. A cached file that no longer matches is named
 * with both hashes, removed, and fetched again (refused offline).
 */
export async function fetchPoolFile(store: ContentStore, file: { archive: LockedDeb["archive"]; path: string; sha256: string; size: number }, what: string, settings: Settings, log: (line: string) => void): Promise<{ path: string; fetched: boolean }> {
  let tampered = "";
  const cached = await store.getVerified("sha256", file.sha256, (actual) => {
    tampered = `cached ${what} does not match the lock: expected sha256 ${file.sha256}, got ${actual}`;
  });
  if (tampered) {
    if (settings.offline) throw new KilnError(`${tampered}; it was removed from the cache`, "run once with network access to fetch it again from the mirror");
    log(`debian: ${tampered}; removed it and fetching it again`);
  }
  if (cached) return { path: cached, fetched: false };
  const mirrors = file.archive === "debian-security" ? settings.apt.securityMirrors : settings.apt.mirrors;
  return { path: await fetchIntoStore(store, mirrors, file.path, file.sha256, settings, what, file.size), fetched: true };
}
