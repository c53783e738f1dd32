/**
 * Pending updates: locked packages against what the current signed indices of
 * their suites publish. The indices come from indices.ts (InRelease checked
 * with gpgv, Packages files checked against it and kept in the content cache);
 * each suite is verified and each suite/architecture read once per run, however
 * many images ask.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { LockedDeb } from "../lock/schema.ts";
import { writeAtomic } from "../oci/store.ts";
import type { Settings } from "../settings/schema.ts";
import type { ContentStore } from "../util/cas.ts";
import { type Archive, fetchPackagesFile, fetchVerifiedSuite, type IndexEntry, parsePackagesIndex, type SuiteSource, suiteSources, type VerifiedSuite } from "./indices.ts";
import { compareDebianVersions } from "./version.ts";

/** What the comparison needs of an index entry. */
export type PublishedEntry = Pick<IndexEntry, "name" | "architecture" | "version">;

/** One suite as checked: its name, archive and the date of its signed Release. */
export interface CheckedSuite {
  suite: string;
  archive: Archive;
  date: string;
}

/** Per `name architecture`, the newest version each suite publishes (suites in release order). */
export type Published = Map<string, { suite: string; archive: Archive; version: string }[]>;

export interface PendingUpdate {
  name: string;
  /** The package's own architecture (`all`, the image's, or a foreign one). */
  architecture: string;
  locked: string;
  /** The newest published version. */
  available: string;
  /** The suite publishing `available` (the security suite when it is among them). */
  suite: string;
  /** Whether the security archive publishes a version newer than the locked one. */
  security: boolean;
}

const keyOf = (name: string, architecture: string) => `${name} ${architecture}`;

/** The newest version per package and suite of some parsed indices, suites kept in the order given. */
export function publishedVersions(indices: { suite: Pick<SuiteSource, "suite" | "archive">; entries: PublishedEntry[] }[]): Published {
  const out: Published = new Map();
  for (const { suite, entries } of indices) {
    for (const e of entries) {
      const key = keyOf(e.name, e.architecture);
      const list = out.get(key) ?? [];
      if (!out.has(key)) out.set(key, list);
      const same = list.find((p) => p.suite === suite.suite);
      if (!same) list.push({ suite: suite.suite, archive: suite.archive, version: e.version });
      else if (compareDebianVersions(e.version, same.version) > 0) same.version = e.version;
    }
  }
  return out;
}

/** The Packages index architecture a locked package is looked up in: its own, or the lock's for `all`. */
export function indexArchitecture(deb: Pick<LockedDeb, "architecture">, lockArch: string): string {
  return deb.architecture === "all" ? lockArch : deb.architecture;
}

/** The locked packages of one architecture that have a newer published version, by name. */
export function pendingUpdates(locked: readonly LockedDeb[], lockArch: string, publishedFor: (indexArch: string) => Published): PendingUpdate[] {
  const out: PendingUpdate[] = [];
  for (const deb of locked) {
    const published = publishedFor(indexArchitecture(deb, lockArch)).get(keyOf(deb.name, deb.architecture)) ?? [];
    const newer = published.filter((p) => compareDebianVersions(p.version, deb.version) > 0);
    if (!newer.length) continue;
    const available = newer.map((p) => p.version).reduce((a, b) => (compareDebianVersions(b, a) > 0 ? b : a));
    const from = newer.filter((p) => p.version === available);
    const suite = (from.find((p) => p.archive === "debian-security") ?? from[0]!).suite;
    out.push({ name: deb.name, architecture: deb.architecture, locked: deb.version, available, suite, security: newer.some((p) => p.archive === "debian-security") });
  }
  return out.sort((a, b) => (a.name === b.name ? a.architecture.localeCompare(b.architecture) : a.name < b.name ? -1 : 1));
}

/** How the current indices are obtained; tests give their own. */
export interface IndexSource {
  /** The suite's signed Release date (after its signature is checked). */
  verify(source: SuiteSource): Promise<{ date: string; read(arch: string): Promise<PublishedEntry[]> }>;
}

/**
 * The real source: gpgv-verified InRelease, Packages files through the content
 * cache. What a Packages file publishes (name, architecture, version) is kept
 * next to the cache, named by the file's signed sha256, so a later run with
 * the same index reads a small table instead of unpacking and parsing ~50 MB.
 */
export function mirrorIndexSource(settings: Settings, store: ContentStore, cacheDir: string): IndexSource {
  return {
    async verify(source) {
      const suite = await fetchVerifiedSuite(source, settings, store);
      return { date: suite.release.date, read: (arch) => publishedIn(suite, arch, store, settings, cacheDir) };
    },
  };
}

/** The signed sha256 naming one architecture's Packages index (any listed form names the same content). */
function indexSha256(suite: VerifiedSuite, arch: string): string | undefined {
  return ["xz", "gz"].map((ext) => suite.release.sha256.get(`main/binary-${arch}/Packages.${ext}`)?.sha256).find(Boolean);
}

/** What one architecture's Packages index of a verified suite publishes, from the kept table when the signed hash names one. */
export async function publishedIn(suite: VerifiedSuite, arch: string, store: ContentStore, settings: Settings, cacheDir: string): Promise<PublishedEntry[]> {
  const hex = indexSha256(suite, arch);
  const file = hex && path.join(cacheDir, "indices", `${hex}.versions`);
  const kept = file ? await readVersionTable(file) : undefined;
  if (kept) return kept;
  const entries = parsePackagesIndex((await fetchPackagesFile(suite, arch, store, settings)).text, suite).map(({ name, architecture, version }) => ({ name, architecture, version }));
  if (file) {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeAtomic(file, entries.map((e) => `${e.name} ${e.architecture} ${e.version}\n`).join(""));
  }
  return entries;
}

/** A kept table, or undefined when there is none or it is damaged (it is then made again). */
async function readVersionTable(file: string): Promise<PublishedEntry[] | undefined> {
  const text = await fs.readFile(file, "utf8").catch(() => undefined);
  if (!text?.endsWith("\n")) return undefined;
  const entries: PublishedEntry[] = [];
  for (const line of text.slice(0, -1).split("\n")) {
    const [name, architecture, version, extra] = line.split(" ");
    if (!name || !architecture || !version || extra !== undefined) return undefined;
    entries.push({ name, architecture, version });
  }
  return entries;
}

/**
 * The current indices of every suite asked for in one run. Verifications and
 * reads are memoised as promises, so images asking at once share one fetch.
 */
export class CurrentIndices {
  private readonly suites = new Map<string, Promise<{ source: SuiteSource; date: string; read(arch: string): Promise<PublishedEntry[]> }[]>>();
  private readonly published = new Map<string, Promise<Published>>();

  constructor(
    private readonly source: IndexSource,
    private readonly settings: Settings,
  ) {}

  /** The suites a release is checked against (the suite, -updates, -security), each verified once. */
  private release(suite: string) {
    let found = this.suites.get(suite);
    if (!found) {
      found = Promise.all(suiteSources(suite, this.settings).map(async (source) => ({ source, ...(await this.source.verify(source)) })));
      this.suites.set(suite, found);
    }
    return found;
  }

  async checked(suite: string): Promise<CheckedSuite[]> {
    return (await this.release(suite)).map((s) => ({ suite: s.source.suite, archive: s.source.archive, date: s.date }));
  }

  /** What the release's suites publish for one architecture, read once. */
  publishedFor(suite: string, arch: string): Promise<Published> {
    const key = `${suite} ${arch}`;
    let found = this.published.get(key);
    if (!found) {
      found = this.release(suite).then(async (suites) => publishedVersions(await Promise.all(suites.map(async (s) => ({ suite: s.source, entries: await s.read(arch) })))));
      this.published.set(key, found);
    }
    return found;
  }

  /** Pending updates of a lock's packages, per lock architecture. */
  async updatesOf(suite: string, packages: Record<string, readonly LockedDeb[]>): Promise<Record<string, PendingUpdate[]>> {
    const archs = [...new Set(Object.entries(packages).flatMap(([lockArch, debs]) => debs.map((d) => indexArchitecture(d, lockArch))))].sort();
    const tables = new Map(await Promise.all(archs.map(async (a) => [a, await this.publishedFor(suite, a)] as const)));
    return Object.fromEntries(Object.keys(packages).sort().map((lockArch) => [lockArch, pendingUpdates(packages[lockArch]!, lockArch, (a) => tables.get(a)!)]));
  }
}
