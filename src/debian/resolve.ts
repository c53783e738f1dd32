/**
 * `resolveDebian`: a Debian request (minbase or a package list) -> a lock with,
 * per architecture, every package to install, its pool path, size and sha256
 * taken from the gpgv-verified indices.
 */
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { KilnError } from "../errors.ts";
import type { DebianLock, LockedDeb } from "../lock/schema.ts";
import type { Settings } from "../settings/schema.ts";
import { ContentStore, hashFile } from "../util/cas.ts";
import { fetchVerifiedSuite, loadPackageTable, otherSuiteSources, type PackageTable, suiteSources, type VerifiedSuite } from "./indices.ts";
import { debianArch, type InstalledPackage, resolveMinbaseSet } from "./minbase.ts";
import { resolvePackageSet } from "./packages.ts";
import { snapshotFromDate } from "./release.ts";
import { checkNewestNotOlder, checkNotOlder, type ReleaseFloor, releaseDatesOf } from "./release-floor.ts";

export interface DebianRequest {
  suite: string;
  set: "minbase" | "packages";
  packages: string[];
  foreignArchitectures: string[];
  /** The parent (a key of the definition's parents) whose packages are not locked again. */
  onTopOf?: string;
  /** Packages taken from other suites of the archive: suite -> package names. */
  fromSuites?: Record<string, string[]>;
}

export interface ResolveOptions {
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** The InRelease dates the previous lock was made from: older ones are refused. */
  floor?: ReleaseFloor;
  /** Per Debian architecture, what the image starts from (the `onTopOf` parent's manifest). */
  installed?: Record<string, readonly InstalledPackage[]>;
}

export function debStore(cacheDir: string): ContentStore {
  return new ContentStore(path.join(cacheDir, "blobs"));
}

export async function resolveDebian(request: DebianRequest, architectures: string[], settings: Settings, cacheDir: string, options: ResolveOptions = {}): Promise<DebianLock> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  if (request.set === "packages" && request.packages.length === 0) throw new KilnError("inputs.debian.packages is empty", 'list packages, or use set: "minbase"');
  const archs = [...new Set(architectures.map(debianArch))].sort();
  const store = debStore(cacheDir);
  const fromSuites = request.fromSuites ?? {};
  if (request.set === "minbase" && Object.keys(fromSuites).length) throw new KilnError("inputs.debian.fromSuites needs set: \"packages\"", "a minbase rootfs comes from one suite; take other suites' packages in an image on top of it");
  const suites: VerifiedSuite[] = [];
  for (const source of [...suiteSources(request.suite, settings), ...otherSuiteSources(fromSuites, settings)]) {
    log(`debian: verifying ${source.suite} InRelease`);
    const suite = await fetchVerifiedSuite(source, settings, store);
    checkNotOlder(`${suite.mirror}/dists/${suite.suite}/InRelease`, suite.suite, suite.release.date, options.floor);
    suites.push(suite);
  }
  checkNewestNotOlder(suites, options.floor);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-resolve-"));
  try {
    const packages: Record<string, LockedDeb[]> = {};
    for (const arch of archs) {
      const indexArchs = [arch, ...request.foreignArchitectures.filter((a) => a !== arch)];
      log(`debian: reading ${request.suite} Packages for ${indexArchs.join(", ")}`);
      const table = await loadPackageTable(suites, indexArchs, store, settings);
      let installed: InstalledPackage[];
      if (request.set === "minbase") {
        log(`debian: resolving the minbase set for ${arch} (mmdebstrap, chrootless)`);
        const result = await resolveMinbaseSet(suites, arch, work, settings.apt);
        installed = result.installed;
        packages[arch] = lockedFrom(installed, table, arch);
        await keepVerifiedDebs(result.debsDir, packages[arch]!, store);
      } else {
        log(`debian: resolving ${request.packages.join(" ")} for ${arch} (apt)`);
        const base = options.installed?.[arch] ?? [];
        if (request.onTopOf && !base.length) throw new KilnError(`no package manifest of ${request.onTopOf} for ${arch}`, `build ${request.onTopOf} for ${arch} first`);
        installed = await resolvePackageSet(suites, arch, request, base, store, settings, work);
        packages[arch] = lockedFrom(installed, table, arch);
      }
    }
    return {
      suite: request.suite,
      snapshot: snapshotOf(suites),
      releaseDates: releaseDatesOf(suites),
      request: {
        set: request.set,
        packages: [...request.packages],
        foreignArchitectures: [...request.foreignArchitectures],
        onTopOf: request.onTopOf,
        fromSuites: Object.keys(fromSuites).length ? fromSuites : undefined,
      },
      packages,
    };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/**
 * The snapshot a lock stands for: the newest Release date of its suites, so
 * that -updates and -security at that time hold the locked versions too.
 */
export function snapshotOf(suites: Pick<VerifiedSuite, "release">[]): string {
  return suites.map((s) => snapshotFromDate(s.release.date)).sort().at(-1)!;
}

export function lockedFrom(installed: InstalledPackage[], table: PackageTable, arch: string): LockedDeb[] {
  return installed
    .map((p) => {
      const entry = table.get(p.name, p.version, p.architecture);
      if (!entry) throw new KilnError(`${p.name} ${p.version} (${p.architecture}) was selected for ${arch} but is in none of the verified indices`, "run the lock again");
      return { name: entry.name, version: entry.version, architecture: entry.architecture, archive: entry.archive, path: entry.path, size: entry.size, sha256: entry.sha256 };
    })
    .sort((a, b) => (a.name === b.name ? a.architecture.localeCompare(b.architecture) : a.name < b.name ? -1 : 1));
}

/** .debs the resolver's own run downloaded enter the cache only when their sha256 is a locked one. */
async function keepVerifiedDebs(dir: string, locked: LockedDeb[], store: ContentStore): Promise<void> {
  const wanted = new Set(locked.map((d) => d.sha256));
  for (const name of await fs.readdir(dir)) {
    const file = path.join(dir, name);
    const hex = await hashFile(file);
    if (wanted.has(hex) && !(await store.has("sha256", hex))) await store.put(createReadStream(file), "sha256", hex, name);
  }
}
