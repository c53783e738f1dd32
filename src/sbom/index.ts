/**
 * Software bills of materials for the images in the store: SPDX 2.3 or
 * CycloneDX 1.5 JSON for one platform of a catalog image, from the image's
 * own contents (dpkg database, deb-install manifests, copyright files) and
 * the locks it was built from. Same image, same bytes.
 */
import path from "node:path";
import { loadImage } from "../definition/catalog.ts";
import { debianArch } from "../debian/minbase.ts";
import { KilnError } from "../errors.ts";
import { readLock } from "../lock/io.ts";
import { splitRef, defaultTargetOf } from "../plan/plan.ts";
import type { OciManifest, OciStore } from "../oci/store.ts";
import { catalogRoot } from "../paths.ts";
import { readImageContents } from "./contents.ts";
import { cyclonedxJson } from "./cyclonedx.ts";
import { gitSources, isoTime, lockedPins, parentImages, pinnedPackages, platformDownloads, npmPackages, type NamedLock, type SbomSubject } from "./inventory.ts";
import { spdxJson } from "./spdx.ts";

export const SBOM_FORMATS = ["spdx", "cyclonedx"] as const;
export type SbomFormat = (typeof SBOM_FORMATS)[number];

/** The image's lock, then its parents' locks, theirs, and so on (each image once). */
async function lockChain(name: string, root: string): Promise<NamedLock[]> {
  const chain: NamedLock[] = [];
  const seen = new Set<string>();
  const queue = [name];
  while (queue.length) {
    const next = queue.shift()!;
    if (seen.has(next)) continue;
    seen.add(next);
    const image = await loadImage(next, root);
    const lock = await readLock(image.dir);
    if (!lock) throw new KilnError(`image ${next} has no lock (${path.join(image.dir, "kiln.lock.json")})`, `pin its inputs: kiln lock ${next}`);
    chain.push({ image: next, lock });
    for (const p of Object.values(lock.parents ?? {})) queue.push(splitRef(p.ref).image);
  }
  return chain;
}

/**
 * The store's image for a catalog reference, and the platforms it holds:
 * what the store lists under the reference, or the stored image `digest`
 * (a build describing the very image it just stored).
 */
async function storedImage(store: OciStore, ref: string, root: string, digest?: string) {
  const { image: name, target: asked } = splitRef(ref);
  const image = await loadImage(name, root);
  const target = asked ?? defaultTargetOf(image);
  if (!image.def.targets[target]) throw new KilnError(`image ${name} has no target "${target}"`, `targets: ${Object.keys(image.def.targets).join(", ")}`);
  const full = `${name}:${target}`;
  const stored = digest ? await store.require(digest) : await store.resolve(full);
  if (!stored) throw new KilnError(`image ${full} is not in the local store (${store.dir})`, `build it first: kiln build ${full}`);
  return { name, full, stored };
}

/** The platforms of a catalog image as the store holds it (what `sbomFor` accepts). */
export async function storedPlatforms(store: OciStore, ref: string, root = catalogRoot()): Promise<string[]> {
  return Object.keys((await storedImage(store, ref, root)).stored.manifests).sort();
}

/** The plain data both formats are made from; `digest`: that stored image of `ref` rather than the one the store lists under it. */
export async function sbomSubject(store: OciStore, ref: string, platform: string, root = catalogRoot(), digest?: string): Promise<SbomSubject> {
  const { name, full, stored } = await storedImage(store, ref, root, digest);
  const desc = stored.manifests[platform];
  if (!desc) {
    const have = Object.keys(stored.manifests).sort().join(", ");
    throw new KilnError(`image ${full} in the store has no ${platform} (it holds ${have || "no platform"})`, `build it for that platform: kiln build ${full} --platform ${platform}`);
  }
  const chain = await lockChain(name, root);
  const own = chain[0]!.lock;
  const manifest = await store.readJson<OciManifest>(desc.digest);
  const contents = await readImageContents(store, desc.digest);
  const what = `image ${full} (${platform}, ${desc.digest})`;
  const packages = pinnedPackages(what, contents, lockedPins(chain, debianArch(platform)), `kiln build ${full}`);
  const parentLayers = new Map<string, string[]>();
  for (const p of Object.values(own.parents ?? {})) {
    const m = p.manifests[platform];
    if (m && (await store.hasBlob(m))) parentLayers.set(m, (await store.readJson<OciManifest>(m)).layers.map((l) => l.digest));
  }
  const parents = parentImages(own, platform, manifest.layers.map((l) => l.digest), (m) => parentLayers.get(m));
  return {
    ref: full,
    platform,
    digest: stored.digest,
    manifest: desc.digest,
    created: await createdOf(store, stored.annotations, manifest),
    packages,
    git: gitSources(own),
    downloads: platformDownloads(own, platform),
    npm: npmPackages(own),
    parents,
  };
}

/** The image's SOURCE_DATE_EPOCH as the store recorded it at build time, else its config's `created`. */
async function createdOf(store: OciStore, annotations: Record<string, string>, manifest: OciManifest): Promise<string> {
  const epoch = annotations["dev.kiln.source-date-epoch"];
  if (epoch && /^\d+$/.test(epoch)) return isoTime(Number(epoch));
  const config = await store.readJson<{ created?: string }>(manifest.config.digest);
  const t = config.created ? Date.parse(config.created) : NaN;
  if (Number.isNaN(t)) throw new KilnError(`image ${manifest.config.digest} records no creation time`, "rebuild it with kiln build");
  return isoTime(Math.floor(t / 1000));
}

/** The SBOM of one platform of a catalog image in the store, as the bytes to write or attach. */
export async function sbomFor(store: OciStore, ref: string, platform: string, format: SbomFormat, root = catalogRoot()): Promise<Buffer> {
  if (!(SBOM_FORMATS as readonly string[]).includes(format)) throw new KilnError(`unknown SBOM format "${format}"`, `use ${SBOM_FORMATS.join(" or ")}`);
  const subject = await sbomSubject(store, ref, platform, root);
  return format === "spdx" ? spdxJson(subject) : cyclonedxJson(subject);
}

/** Media types for attaching the documents as OCI artifacts (the artifact types registries and tools know them by). */
export const SBOM_MEDIA_TYPES: Record<SbomFormat, string> = {
  spdx: "application/spdx+json",
  cyclonedx: "application/vnd.cyclonedx+json",
};

export interface SbomDocument {
  platform: string;
  format: SbomFormat;
  bytes: Buffer;
}

/** Every format for every platform of the stored image `digest` of catalog ref `ref`: one read of each platform's image. */
export async function sbomDocuments(store: OciStore, ref: string, digest: string, root = catalogRoot()): Promise<SbomDocument[]> {
  const { stored } = await storedImage(store, ref, root, digest);
  const docs: SbomDocument[] = [];
  for (const platform of Object.keys(stored.manifests).sort()) {
    const subject = await sbomSubject(store, ref, platform, root, digest);
    docs.push({ platform, format: "spdx", bytes: spdxJson(subject) }, { platform, format: "cyclonedx", bytes: cyclonedxJson(subject) });
  }
  return docs;
}
