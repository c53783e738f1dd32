/**
 * Artifacts attached to an image as OCI 1.1 referrers: an artifact manifest
 * (empty config, one blob) whose `subject` is the image's top descriptor.
 * Attaching never touches the image itself, so its digest stays what it was.
 * In the store, the artifact manifest is listed untagged in index.json (as
 * OCI layout tools keep referrers); in a registry, it is found through the
 * referrers API or, where the registry lacks it, the tag `sha256-<hex>`
 * holding an index of referrer descriptors.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import { hashBytes } from "../util/cas.ts";
import { MEDIA_INDEX, MEDIA_MANIFEST, type Descriptor, type OciIndex, type OciStore } from "./store.ts";

export const MEDIA_EMPTY = "application/vnd.oci.empty.v1+json";

/** The empty config every artifact manifest carries: the two bytes `{}`, inlined. */
export const EMPTY_CONFIG = { mediaType: MEDIA_EMPTY, digest: `sha256:${hashBytes("{}")}`, size: 2, data: "e30=" } as const;

export interface Artifact {
  /** What the artifact is (`application/vnd.kiln.lock.v1+json`): the key referrers are filtered by. */
  artifactType: string;
  /** The media type of its one blob. */
  mediaType: string;
  bytes: Buffer;
  /** Fixed strings only (no timestamps): the same artifact always has the same digest. */
  annotations?: Record<string, string>;
}

export interface ArtifactManifest {
  schemaVersion: 2;
  mediaType: typeof MEDIA_MANIFEST;
  artifactType: string;
  config: typeof EMPTY_CONFIG;
  layers: Descriptor[];
  subject: Descriptor;
  annotations?: Record<string, string>;
}

/** A referrer as listed: the artifact manifest's descriptor with its type and annotations. */
export interface Referrer extends Descriptor {
  artifactType: string;
}

/** The artifact manifest's bytes, in a fixed key order with sorted annotations: same input, same digest. */
export function artifactManifest(subject: Descriptor, artifact: Artifact): Buffer {
  const blob = { mediaType: artifact.mediaType, digest: `sha256:${hashBytes(artifact.bytes)}`, size: artifact.bytes.length };
  const annotations = sortedAnnotations(artifact.annotations);
  const manifest: ArtifactManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_MANIFEST,
    artifactType: artifact.artifactType,
    config: EMPTY_CONFIG,
    layers: [blob],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    ...(annotations ? { annotations } : {}),
  };
  return Buffer.from(JSON.stringify(manifest));
}

/** The descriptor a referrers listing gives for an artifact manifest. */
export function referrerOf(manifestBytes: Buffer): Referrer {
  const m = JSON.parse(manifestBytes.toString("utf8")) as Partial<ArtifactManifest>;
  return {
    mediaType: m.mediaType ?? MEDIA_MANIFEST,
    digest: `sha256:${hashBytes(manifestBytes)}`,
    size: manifestBytes.length,
    artifactType: m.artifactType ?? m.config?.mediaType ?? "",
    ...(m.annotations ? { annotations: m.annotations } : {}),
  };
}

/** The tag a registry without the referrers API keeps the referrers of `digest` under. */
export function fallbackTag(digest: string): string {
  const [alg, hex] = digest.split(":");
  if (!alg || !hex) throw new Error(`not a digest: ${digest}`);
  return `${alg}-${hex}`;
}

/** A referrers index: `existing` ones (e.g. what the fallback tag holds now) plus `added`, each digest once, sorted. */
export function referrersIndex(existing: Descriptor[], added: Descriptor[]): OciIndex {
  const byDigest = new Map<string, Descriptor>();
  for (const d of [...existing, ...added]) byDigest.set(d.digest, d);
  return { schemaVersion: 2, mediaType: MEDIA_INDEX, manifests: [...byDigest.values()].sort((a, b) => a.digest.localeCompare(b.digest)) };
}

/**
 * Attaches one artifact to a stored image: writes its blob and manifest and
 * lists the manifest in the store. Idempotent: the same artifact attached
 * twice is one referrer.
 */
export async function attachArtifact(store: OciStore, subjectDigest: string, artifact: Artifact): Promise<Referrer> {
  const subject = await store.resolve(subjectDigest);
  if (!subject) throw new KilnError(`cannot attach ${artifact.artifactType} to ${subjectDigest}: no such image in the store (${store.dir})`, "build the image first");
  const size = await store.blobSize(subjectDigest);
  const manifest = artifactManifest({ mediaType: subject.mediaType, digest: subjectDigest, size }, artifact);
  await store.writeBlob(artifact.bytes);
  await store.writeBlob(Buffer.from("{}"));
  await store.writeBlob(manifest);
  const referrer = referrerOf(manifest);
  await store.addUntagged(referrer);
  return referrer;
}

/** The store's referrers of `digest`, optionally of one artifact type, sorted by digest. */
export async function listReferrers(store: OciStore, digest: string, artifactType?: string): Promise<Referrer[]> {
  const idx = await store.index();
  const out: Referrer[] = [];
  for (const d of idx.manifests) {
    if (!d.artifactType || (artifactType && d.artifactType !== artifactType)) continue;
    const manifest = await store.readJson<Partial<ArtifactManifest>>(d.digest).catch(() => undefined);
    if (manifest?.subject?.digest === digest) out.push(d as Referrer);
  }
  return out.sort((a, b) => a.digest.localeCompare(b.digest));
}

/**
 * Adds the referrers of `digest` (and theirs) to an OCI layout folder that
 * holds the image, listed untagged in its index.json: what `oras cp
 * --recursive` reads. Returns how many were added.
 */
export async function exportReferrers(store: OciStore, digest: string, layoutDir: string): Promise<number> {
  const found: Referrer[] = [];
  const walk = async (subject: string) => {
    for (const r of await listReferrers(store, subject)) {
      if (found.some((f) => f.digest === r.digest)) continue;
      found.push(r);
      await walk(r.digest);
    }
  };
  await walk(digest);
  if (!found.length) return 0;
  for (const r of found) await store.linkBlobs(await store.blobsOf(r.digest), layoutDir);
  const file = path.join(layoutDir, "index.json");
  const idx = JSON.parse(await fs.readFile(file, "utf8")) as OciIndex;
  idx.manifests.push(...found);
  await fs.writeFile(file, JSON.stringify(idx));
  return found.length;
}

/** The one blob of an artifact manifest in the store, checked against its digest. */
export async function readArtifactBlob(store: OciStore, referrer: Descriptor): Promise<Buffer> {
  const manifest = await store.readJson<ArtifactManifest>(referrer.digest);
  const blob = manifest.layers[0];
  if (!blob) throw new KilnError(`artifact ${referrer.digest} has no blob`);
  return store.readBlob(blob.digest);
}

function sortedAnnotations(a: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!a || Object.keys(a).length === 0) return undefined;
  return Object.fromEntries(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}
