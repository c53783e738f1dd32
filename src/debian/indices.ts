/**
 * The verified view of a Debian release: InRelease files checked with gpgv
 * against the pinned keyring, Packages indices fetched no larger than and
 * checked against the sizes and hashes in the signed text, parsed into
 * a table of every (name, version, architecture) with its pool file.
 */
import fs from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { KilnError } from "../errors.ts";
import type { LockedDeb } from "../lock/schema.ts";
import type { Settings } from "../settings/schema.ts";
import { type ContentStore, hashBytes } from "../util/cas.ts";
import { run } from "../util/run.ts";
import { parseDeb822 } from "./deb822.ts";
import { archiveKeyring, type PinnedKeyring } from "./archive-keyring.ts";
import { fetchBytes, fetchIntoStore } from "./download.ts";
import { parseRelease, type ReleaseInfo, verifyInRelease } from "./release.ts";

export type Archive = LockedDeb["archive"];

export interface SuiteSource {
  archive: Archive;
  suite: string;
  mirrors: string[];
  /**
   * Set for a suite other than the image's own (`inputs.debian.fromSuites`): the packages taken
   * from it. apt prefers them from this suite and anything else only when no other suite has it.
   */
  takes?: string[];
}

export interface VerifiedSuite extends SuiteSource {
  /** The mirror that served the InRelease (used for everything else of this suite). */
  mirror: string;
  inRelease: Buffer;
  release: ReleaseInfo;
  /** The keyring its InRelease was verified with (apt, run on the verified copy, checks it again with the same). */
  keyring: PinnedKeyring;
}

/** The suites a Debian release is made of: the suite, its -updates, and -security from the security mirrors. */
export function suiteSources(suite: string, settings: Settings): SuiteSource[] {
  return [
    { archive: "debian", suite, mirrors: settings.apt.mirrors },
    { archive: "debian", suite: `${suite}-updates`, mirrors: settings.apt.mirrors },
    { archive: "debian-security", suite: `${suite}-security`, mirrors: settings.apt.securityMirrors },
  ];
}

/** The other suites an image takes packages from: only the suite itself, from the main mirrors. */
export function otherSuiteSources(fromSuites: Readonly<Record<string, readonly string[]>>, settings: Settings): SuiteSource[] {
  return Object.entries(fromSuites)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([suite, takes]) => ({ archive: "debian" as const, suite, mirrors: settings.apt.mirrors, takes: [...takes] }));
}

export async function fetchVerifiedSuite(source: SuiteSource, settings: Settings, store: ContentStore): Promise<VerifiedSuite> {
  const what = `${source.suite} InRelease`;
  const { mirror, data } = await fetchBytes(source.mirrors, `dists/${source.suite}/InRelease`, settings, what);
  const keyring = await archiveKeyring(settings, store);
  const release = parseRelease(await verifyInRelease(data, `${mirror}/dists/${source.suite}/InRelease`, keyring));
  if (release.suite !== source.suite && release.codename !== source.suite) {
    throw new KilnError(`${mirror}/dists/${source.suite}/InRelease is signed for suite ${release.suite} (${release.codename})`, "check the mirror setting");
  }
  if (settings.apt.checkValidUntil && release.validUntil && new Date(release.validUntil).getTime() < Date.now()) {
    throw new KilnError(`${mirror}/dists/${source.suite}/InRelease expired on ${release.validUntil}`, "the mirror is stale; use another mirror or set apt.checkValidUntil=false");
  }
  return { ...source, mirror, inRelease: data, release, keyring };
}

export interface IndexEntry {
  name: string;
  version: string;
  architecture: string;
  archive: Archive;
  suite: string;
  path: string;
  size: number;
  sha256: string;
  /** The stanza as published, for resolvers that need more fields. */
  fields: Record<string, string>;
}

/** The raw Packages index of one architecture, its bytes verified against the signed Release. */
export async function fetchPackagesFile(suite: VerifiedSuite, arch: string, store: ContentStore, settings: Settings): Promise<{ rel: string; compressed: Buffer; text: string }> {
  const found = await fetchSignedIndex(suite, `main/binary-${arch}/Packages`, store, settings);
  if (!found) throw new KilnError(`${suite.mirror}/dists/${suite.suite}/InRelease lists no Packages index for main/binary-${arch}`, `is ${arch} built for ${suite.suite}?`);
  return found;
}

/**
 * `<base>.xz` (else `.gz`) of a suite, from the cache or the mirror, its bytes
 * checked against the signed Release; undefined when the Release lists neither.
 */
export async function fetchSignedIndex(suite: VerifiedSuite, base: string, store: ContentStore, settings: Settings): Promise<{ rel: string; compressed: Buffer; text: string } | undefined> {
  for (const ext of ["xz", "gz"] as const) {
    const rel = `${base}.${ext}`;
    const want = suite.release.sha256.get(rel);
    if (!want) continue;
    const what = `${suite.suite} ${rel}`;
    const file =
      (await store.getVerified("sha256", want.sha256)) ??
      (await fetchIntoStore(store, [suite.mirror, ...suite.mirrors.filter((m) => m !== suite.mirror)], `dists/${suite.suite}/${rel}`, want.sha256, settings, what, want.size));
    const compressed = await fs.readFile(file);
    if (hashBytes(compressed) !== want.sha256) throw new KilnError(`${what} changed in the cache while reading`, "retry");
    return { rel, compressed, text: await decompressIndex(compressed, ext) };
  }
  return undefined;
}

/** The text of a `.xz` or `.gz` index. */
export async function decompressIndex(data: Buffer, ext: "xz" | "gz"): Promise<string> {
  if (ext === "gz") return gunzipSync(data).toString("utf8");
  const r = await run("xz", ["-dc"], { what: "decompress an index", input: data });
  return r.stdout.toString("utf8");
}

export function parsePackagesIndex(text: string, suite: Pick<SuiteSource, "archive" | "suite">): IndexEntry[] {
  return parseDeb822(text).flatMap((p) => {
    if (!p.Package || !p.Version || !p.Architecture || !p.Filename || !p.SHA256 || !p.Size) return [];
    return [{ name: p.Package, version: p.Version, architecture: p.Architecture, archive: suite.archive, suite: suite.suite, path: p.Filename, size: Number(p.Size), sha256: p.SHA256, fields: p }];
  });
}

/** Every package of the given suites and architectures, keyed `name version architecture`. */
export class PackageTable {
  private readonly byKey = new Map<string, IndexEntry>();

  add(entries: IndexEntry[]): void {
    // The first suite added wins for identical versions: the same file is published in both.
    for (const e of entries) {
      const key = PackageTable.key(e.name, e.version, e.architecture);
      if (!this.byKey.has(key)) this.byKey.set(key, e);
    }
  }

  get(name: string, version: string, architecture: string): IndexEntry | undefined {
    return this.byKey.get(PackageTable.key(name, version, architecture));
  }

  static key(name: string, version: string, architecture: string): string {
    return `${name} ${version} ${architecture}`;
  }
}

export async function loadPackageTable(suites: VerifiedSuite[], archs: string[], store: ContentStore, settings: Settings): Promise<PackageTable> {
  const table = new PackageTable();
  for (const suite of suites) {
    for (const arch of archs) {
      const { text } = await fetchPackagesFile(suite, arch, store, settings);
      table.add(parsePackagesIndex(text, suite));
    }
  }
  return table;
}
