/**
 * Debian source packages through the same trust chain as binary ones: the
 * gpgv-verified InRelease vouches for `main/source/Sources.xz`, whose stanza
 * names the .dsc and every file it lists with their sha256; the .dsc itself
 * must list exactly those files with the same hashes.
 */
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import type { ContentStore } from "../util/cas.ts";
import { run } from "../util/run.ts";
import { parseDeb822 } from "./deb822.ts";
import { type Archive, fetchSignedIndex, type VerifiedSuite } from "./indices.ts";

export interface SourceFile {
  name: string;
  size: number;
  sha256: string;
}

export interface SourceEntry {
  package: string;
  version: string;
  archive: Archive;
  suite: string;
  /** Pool folder of the files, e.g. `pool/main/h/hello`. */
  directory: string;
  /** The .dsc first, then the files it lists, as the index orders them. */
  files: SourceFile[];
}

/** `Checksums-Sha256` lines: ` <hex> <size> <name>`. */
export function parseChecksums(field: string | undefined): SourceFile[] {
  return (field ?? "")
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length === 3 && /^[0-9a-f]{64}$/.test(p[0]!))
    .map(([sha256, size, name]) => ({ name: name!, size: Number(size), sha256: sha256! }));
}

export function parseSourcesIndex(text: string, suite: Pick<VerifiedSuite, "archive" | "suite">): SourceEntry[] {
  return parseDeb822(text).flatMap((p) => {
    if (!p.Package || !p.Version || !p.Directory) return [];
    const files = parseChecksums(p["Checksums-Sha256"]);
    const dsc = files.find((f) => f.name.endsWith(".dsc"));
    if (!dsc) return [];
    return [{ package: p.Package, version: p.Version, archive: suite.archive, suite: suite.suite, directory: p.Directory, files: [dsc, ...files.filter((f) => f !== dsc)] }];
  });
}

/** The source entries of one suite (`main/source/Sources.xz`, else `.gz`), the index checked against the signed Release. */
export async function loadSourcesIndex(suite: VerifiedSuite, store: ContentStore, settings: Settings): Promise<SourceEntry[]> {
  const found = await fetchSignedIndex(suite, "main/source/Sources", store, settings);
  if (!found) throw new KilnError(`${suite.mirror}/dists/${suite.suite}/InRelease lists no Sources index for main`, "check the mirror setting");
  return parseSourcesIndex(found.text, suite);
}

/** dpkg's version order: negative when a sorts before b. */
export async function compareVersions(a: string, b: string): Promise<number> {
  if (a === b) return 0;
  const r = await run("dpkg", ["--compare-versions", a, "lt", b], { what: "compare Debian versions", allowFailure: true });
  return r.code === 0 ? -1 : 1;
}

/**
 * The entry for `pkg` across the suites: exactly `version` when given, else
 * the newest version any suite publishes (the first suite wins a tie).
 */
export async function pickSource(entries: SourceEntry[], pkg: string, version?: string): Promise<SourceEntry> {
  const candidates = entries.filter((e) => e.package === pkg);
  if (!candidates.length) throw new KilnError(`no Debian source package ${pkg} in the verified Sources indices`, "check the package name in inputs.debianSource (the source name, e.g. `hello`)");
  if (version) {
    const hit = candidates.find((e) => e.version === version);
    if (!hit) throw new KilnError(`Debian source package ${pkg} has no version ${version} (published: ${[...new Set(candidates.map((e) => e.version))].join(", ")})`, "fix the version in inputs.debianSource, or drop it to take the newest");
    return hit;
  }
  let best = candidates[0]!;
  for (const c of candidates.slice(1)) if ((await compareVersions(best.version, c.version)) < 0) best = c;
  return best;
}

/** The signed body of a clearsigned .dsc (or the whole text when it is not signed). */
export function dscBody(text: string): string {
  const m = /-----BEGIN PGP SIGNED MESSAGE-----\n(?:[^\n]+\n)*\n([\s\S]*?)\n-----BEGIN PGP SIGNATURE-----/.exec(text);
  return m ? m[1]! : text;
}

/**
 * Refuses a .dsc (already verified by its sha256 from the Sources index) that
 * lists other files or hashes than the index: the lock must pin what
 * dpkg-source will read.
 */
export function checkDscAgainstIndex(dscText: string, entry: Pick<SourceEntry, "package" | "version" | "files">): void {
  const [p] = parseDeb822(dscBody(dscText));
  const listed = parseChecksums(p?.["Checksums-Sha256"]);
  const expected = entry.files.slice(1);
  const key = (f: SourceFile) => `${f.name} ${f.size} ${f.sha256}`;
  const a = listed.map(key).sort();
  const b = expected.map(key).sort();
  if (p?.Source !== entry.package || p?.Version !== entry.version || a.join("\n") !== b.join("\n")) {
    throw new KilnError(`${entry.files[0]!.name} does not list the files the Sources index names for ${entry.package} ${entry.version}`, "the mirror is inconsistent; try another mirror");
  }
}
