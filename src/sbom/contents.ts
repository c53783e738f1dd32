/**
 * What one platform's image says it holds: the Debian packages of its dpkg
 * database (images made with dpkg: debian, build stages) and of the manifests
 * deb-install writes (images unpacked without dpkg: the runtime and apps),
 * with each package's copyright file. Read from the store's layers, nothing unpacked.
 */
import { parseDeb822 } from "../debian/deb822.ts";
import { isPackageManifest, parseManifestEntries } from "../debian/installed.ts";
import { KilnError } from "../errors.ts";
import { readImageFiles, type LayerEntry } from "../oci/layers.ts";
import type { OciStore } from "../oci/store.ts";

export const DPKG_STATUS = "var/lib/dpkg/status";

/** A package the image holds, and where the image says so. */
export interface InstalledDeb {
  name: string;
  version: string;
  architecture: string;
  /** sha256 of the .deb as the manifest records it; dpkg's database records none. */
  sha256?: string;
  /** `var/lib/dpkg/status` or the manifest's path. */
  source: string;
  /** The source package, when dpkg's database names it (its `Source:` field). */
  sourcePackage?: string;
}

export interface ImageContents {
  packages: InstalledDeb[];
  /** Package name -> the text of its /usr/share/doc/NAME/copyright, when the image has one. */
  copyrights: Map<string, string>;
}

const COPYRIGHT = /^usr\/share\/doc\/[^/]+\/copyright$/;
/** Generous: the largest copyright files in Debian are a few hundred KiB, a builder's dpkg status a few MiB. */
const MAX_KEPT = 16 * 1024 * 1024;

const wanted = (p: string) => p === DPKG_STATUS || isPackageManifest(p) || COPYRIGHT.test(p);

/** The packages dpkg's status file marks installed. */
export function parseDpkgStatus(text: string, source = DPKG_STATUS): InstalledDeb[] {
  let paragraphs;
  try {
    paragraphs = parseDeb822(text);
  } catch (e) {
    throw new KilnError(`${source} is not a dpkg status file: ${(e as Error).message}`, "rebuild the image");
  }
  return paragraphs
    .filter((p) => (p.Status ?? "").split(/\s+/)[2] === "installed")
    .map((p) => {
      if (!p.Package || !p.Version || !p.Architecture) throw new KilnError(`${source}: a package entry lacks Package, Version or Architecture`, "rebuild the image");
      const sourcePackage = p.Source?.split(/\s+/)[0];
      return { name: p.Package, version: p.Version, architecture: p.Architecture, source, ...(sourcePackage ? { sourcePackage } : {}) };
    });
}

/** Follows symbolic links (absolute or relative, in any component) inside the image's file system. */
export function resolveInImage(files: Map<string, LayerEntry>, p: string, depth = 0): string | undefined {
  if (depth > 40) return undefined;
  const parts = p.split("/").filter(Boolean);
  const done: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    done.push(part);
    const entry = files.get(done.join("/"));
    if (entry?.type === "symlink" && entry.linkname !== undefined) {
      const base = entry.linkname.startsWith("/") ? [] : done.slice(0, -1);
      return resolveInImage(files, [...base, entry.linkname, ...parts.slice(i + 1)].join("/"), depth + 1);
    }
  }
  return done.join("/");
}

/** Reads the packages and copyright files of one platform's image (`manifestDigest`) in the store. */
export async function readImageContents(store: OciStore, manifestDigest: string): Promise<ImageContents> {
  const files = await readImageFiles(store, manifestDigest, { keepContentOf: wanted, keepContentBytes: MAX_KEPT, hashFiles: false });
  const packages: InstalledDeb[] = [];
  const text = (p: string, e: LayerEntry) => {
    if (!e.content) throw new KilnError(`${p} in image ${manifestDigest} is larger than ${MAX_KEPT} bytes`, "rebuild the image");
    return e.content.toString("utf8");
  };
  for (const [p, e] of files) {
    if (e.type !== "file") continue;
    if (p === DPKG_STATUS) packages.push(...parseDpkgStatus(text(p, e)));
    else if (isPackageManifest(p)) packages.push(...parseManifestEntries(text(p, e), p).map((m) => ({ ...m, source: p })));
  }
  const copyrightOf = (name: string) => {
    const real = resolveInImage(files, `usr/share/doc/${name}/copyright`);
    const entry = real === undefined ? undefined : files.get(real);
    return entry?.type === "file" && entry.content ? entry.content.toString("utf8") : undefined;
  };
  const copyrights = new Map<string, string>();
  for (const name of new Set(packages.map((p) => p.name))) {
    const own = copyrightOf(name);
    if (own !== undefined) copyrights.set(name, own);
  }
  const owned = new Set(copyrights.keys());
  // A package whose doc folder was a link to a sibling's (libgcc-s1 -> gcc-12-base) shares its source package's copyright.
  const sorted = [...packages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const p of sorted) {
    if (copyrights.has(p.name) || !p.sourcePackage) continue;
    const sibling = sorted.find((o) => o.sourcePackage === p.sourcePackage && o.name !== p.name && owned.has(o.name));
    if (sibling) copyrights.set(p.name, copyrights.get(sibling.name)!);
  }
  return { packages, copyrights };
}
