/**
 * What a build attaches to the image it stored: its lock, with the catalog
 * revision it was built from and the image and target it is, so that anyone
 * holding the image can check out that revision and rebuild it (`kiln rebuild`);
 * and its bills of materials, SPDX and CycloneDX for each platform.
 * The annotations are fixed facts (no timestamps): the same build attaches
 * the same artifacts, digest for digest.
 */
import { KilnError } from "../errors.ts";
import type { CatalogRevision } from "../git/metadata.ts";
import { attachArtifact, type Artifact, type Referrer } from "../oci/referrers.ts";
import type { OciStore } from "../oci/store.ts";
import { SBOM_MEDIA_TYPES, sbomDocuments, type SbomDocument } from "../sbom/index.ts";

export const LOCK_ARTIFACT_TYPE = "application/vnd.kiln.lock.v1+json";

const A = {
  revision: "org.opencontainers.image.revision",
  source: "org.opencontainers.image.source",
  dirty: "dev.kiln.revision.dirty",
  image: "dev.kiln.image",
  target: "dev.kiln.target",
  platforms: "dev.kiln.platforms",
  buildArgs: "dev.kiln.build-args",
  platform: "dev.kiln.platform",
} as const;

/** The annotation naming the platform an SBOM attachment describes (`linux/arm64`). */
export const PLATFORM_ANNOTATION = A.platform;

/** What a lock attachment says about the build it came from. */
export interface BuildRecord {
  image: string;
  target: string;
  platforms: string[];
  /** Build args given on the command line (not from the definition), when any. */
  buildArgs?: Record<string, string>;
  revision?: CatalogRevision;
}

export function lockArtifact(lockBytes: Buffer, record: BuildRecord): Artifact {
  const annotations: Record<string, string> = {
    [A.image]: record.image,
    [A.target]: record.target,
    [A.platforms]: [...record.platforms].sort().join(","),
  };
  const args = Object.entries(record.buildArgs ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  if (args.length) annotations[A.buildArgs] = JSON.stringify(Object.fromEntries(args));
  if (record.revision) {
    annotations[A.revision] = record.revision.commit;
    if (record.revision.dirty) annotations[A.dirty] = "true";
    if (record.revision.source) annotations[A.source] = record.revision.source;
  }
  return { artifactType: LOCK_ARTIFACT_TYPE, mediaType: LOCK_ARTIFACT_TYPE, bytes: lockBytes, annotations };
}

/** Reads the build record back from a lock referrer's annotations; `where` names it in errors. */
export function buildRecordOf(annotations: Record<string, string> | undefined, where: string): BuildRecord {
  const a = annotations ?? {};
  const image = a[A.image];
  const target = a[A.target];
  if (!image || !target) throw new KilnError(`the lock attached to ${where} does not say which image it is (annotations ${A.image}, ${A.target})`, "it was not attached by kiln build; rebuild needs a kiln-built image");
  let buildArgs: Record<string, string> | undefined;
  const rawArgs = a[A.buildArgs];
  if (rawArgs) {
    try {
      buildArgs = JSON.parse(rawArgs) as Record<string, string>;
    } catch {
      throw new KilnError(`the lock attached to ${where} has malformed build args (${A.buildArgs})`);
    }
  }
  const commit = a[A.revision];
  return {
    image,
    target,
    platforms: (a[A.platforms] ?? "").split(",").filter(Boolean),
    ...(buildArgs ? { buildArgs } : {}),
    ...(commit ? { revision: { commit, dirty: a[A.dirty] === "true", ...(a[A.source] ? { source: a[A.source] } : {}) } } : {}),
  };
}

/** Attaches the lock of a finished build to its image in the store. */
export async function attachBuildLock(store: OciStore, digest: string, lockBytes: Buffer, record: BuildRecord): Promise<Referrer> {
  return attachArtifact(store, digest, lockArtifact(lockBytes, record));
}

/** One SBOM as an attachment: its format's media type, and which image, target and platform it describes. */
export function sbomArtifact(doc: SbomDocument, record: Pick<BuildRecord, "image" | "target">): Artifact {
  const type = SBOM_MEDIA_TYPES[doc.format];
  return { artifactType: type, mediaType: type, bytes: doc.bytes, annotations: { [A.image]: record.image, [A.target]: record.target, [A.platform]: doc.platform } };
}

/** Attaches the SBOMs (every format, every platform) of a finished build's image in the store; `root`: the catalog it was built from. */
export async function attachBuildSboms(store: OciStore, digest: string, record: Pick<BuildRecord, "image" | "target">, root: string): Promise<Referrer[]> {
  const docs = await sbomDocuments(store, `${record.image}:${record.target}`, digest, root);
  const attached: Referrer[] = [];
  for (const doc of docs) attached.push(await attachArtifact(store, digest, sbomArtifact(doc, record)));
  return attached;
}
