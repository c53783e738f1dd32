/**
 * What a parent image already holds, from the manifests `deb-install` writes
 * into every image it assembles (`usr/share/kiln/packages/*.tsv`). A child's
 * lock resolves its packages on top of that set, so it pins only what the
 * parent lacks; apt sees the set as installed through a dpkg status file.
 */
import { KilnError } from "../errors.ts";
import { readImageFiles } from "../oci/layers.ts";
import type { OciStore } from "../oci/store.ts";
import type { InstalledPackage } from "./minbase.ts";

export const MANIFEST_DIR = "usr/share/kiln/packages";

/** A manifest line: the package and the sha256 of the .deb it was unpacked from. */
export interface ManifestEntry extends InstalledPackage {
  sha256: string;
}

/** One manifest: `name<TAB>version<TAB>architecture<TAB>sha256` lines, `#` comments. */
export function parseManifestEntries(text: string, source: string): ManifestEntry[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((line, i) => {
      const [name, version, architecture, sha256] = line.split("\t");
      if (!name || !version || !architecture || !sha256) throw new KilnError(`${source}: line ${i + 1} is not "name<TAB>version<TAB>architecture<TAB>sha256"`, "rebuild the image");
      return { name, version, architecture, sha256 };
    });
}

/** The packages of one manifest (what a child's lock is resolved on top of). */
export function parsePackageManifest(text: string, source: string): InstalledPackage[] {
  return parseManifestEntries(text, source).map(({ name, version, architecture }) => ({ name, version, architecture }));
}

export function isPackageManifest(p: string): boolean {
  return p.startsWith(`${MANIFEST_DIR}/`) && p.endsWith(".tsv");
}

/** The packages every manifest of one platform's image lists, sorted by name. */
export async function installedInImage(store: OciStore, manifestDigest: string, what: string): Promise<InstalledPackage[]> {
  const found: InstalledPackage[] = [];
  for (const [p, entry] of await readImageFiles(store, manifestDigest, { keepContentOf: isPackageManifest, hashFiles: false })) {
    if (entry.type !== "file" || !isPackageManifest(p)) continue;
    if (!entry.content) throw new KilnError(`${what}: ${p} is too large to be a package manifest`);
    found.push(...parsePackageManifest(entry.content.toString("utf8"), `${what} ${p}`));
  }
  if (!found.length) throw new KilnError(`${what} holds no package manifest (${MANIFEST_DIR}/*.tsv)`, "assemble it with deb-install, or drop inputs.debian.onTopOf");
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export const DPKG_STATUS = "var/lib/dpkg/status";

/** The dpkg status file of one platform's image (a build stage image that installs with dpkg: the builder). */
export async function dpkgStatusInImage(store: OciStore, manifestDigest: string, what: string): Promise<string> {
  const files = await readImageFiles(store, manifestDigest, { keepContentBytes: 32 * 1024 * 1024, keepContentOf: (p) => p === DPKG_STATUS, hashFiles: false });
  const entry = files.get(DPKG_STATUS);
  if (entry?.type !== "file" || !entry.content) throw new KilnError(`${what} has no dpkg status (${DPKG_STATUS})`, "name a parent that installs packages with dpkg (base-builder) in onTopOf");
  return entry.content.toString("utf8");
}

/** A dpkg status file that shows `packages` installed, without their relations (they are the parent's business). */
export function statusFileFor(packages: readonly InstalledPackage[]): string {
  return packages.map((p) => `Package: ${p.name}\nStatus: install ok installed\nVersion: ${p.version}\nArchitecture: ${p.architecture}\n`).join("\n");
}
