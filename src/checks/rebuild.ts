/**
 * `kiln rebuild REGISTRY/NAME@sha256:...`: anyone holding a pushed image can
 * rebuild it. The lock attached to it names the image, target, platforms and
 * the catalog revision; that revision is checked out into a temporary folder,
 * its lock must be the attached one, and the image is built from it into a
 * fresh store. Same digest: identical; otherwise the semantic diff says what
 * differs.
 *
 * Definitions are code: rebuilding a catalog runs it. What the registry says
 * (the attachment's record) is checked field by field, and its catalog is
 * cloned only when something the site trusts vouches for it: the user named
 * the catalog (--catalog), the site lists it (rebuild.trustedCatalogs), or the
 * lock attachment carries a signature by the site's key. The attached lock is
 * compared with the revision's from git's objects before any file of the
 * catalog is checked out, let alone imported.
 */
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { buildImage } from "../build/build.ts";
import { buildRecordOf, LOCK_ARTIFACT_TYPE, PLATFORM_ANNOTATION, type BuildRecord } from "../build/attachments.ts";
import { loadImage, type LoadedImage } from "../definition/catalog.ts";
import type { Platform } from "../definition/schema.ts";
import { KilnError } from "../errors.ts";
import { checkoutCommit, cloneCatalog, fileAtCommit, resolveCommit, type CatalogClone } from "../git/checkout.ts";
import { rewriteGitUrl } from "../lock/git.ts";
import { lockPathOf, readLock } from "../lock/io.ts";
import { storeRefOf } from "../lock/resolve.ts";
import { diffImages, formatDiff } from "../oci/diff.ts";
import { fetchVerified, parseDigestRef, pullToLayout, remoteReferrers } from "../oci/oras.ts";
import { listReferrers, type ArtifactManifest, type Referrer } from "../oci/referrers.ts";
import { OciStore } from "../oci/store.ts";
import { REPO_ROOT, storeDir } from "../paths.ts";
import { splitRef } from "../plan/plan.ts";
import type { Settings } from "../settings/schema.ts";
import { attachmentSignedBySite } from "../signing/signatures.ts";
import { withTempDir } from "../util/temp.ts";
import { catalogUrlProblem, checkBuildRecord, isFileTransport, isTrustedCatalog, REMOTE_SCHEMES, revisionProblem } from "./rebuild-record.ts";
import { sideOf } from "./images.ts";

export interface RebuildOptions {
  settings: Settings;
  /** Git URL or local repository to check out from (default: the URL the build recorded). */
  catalog?: string;
  /** Another revision than the recorded one (to see what a change does to the image). */
  revision?: string;
  noCache?: boolean;
  log?: (line: string) => void;
}

export interface RebuildResult {
  ref: string;
  image: string;
  target: string;
  revision: string;
  catalog: string;
  /** Where each parent came from: the local store (by digest) or rebuilt from the checkout. */
  parents: { ref: string; digest: string; from: "local store" | "rebuilt" }[];
  identical: boolean;
  rebuilt: string;
  /** What made the catalog trusted enough to run: named with --catalog, listed by the site, or the lock attachment signed by the site's key. */
  trustedBy?: string;
  /** The lock attachment read from the registry, and the one the rebuild attached: the same digest when the build record is deterministic. */
  lock: { attached: string; rebuilt?: string };
  /**
   * The other attachments the registry holds for the image (SBOMs): whether the rebuild attached each of them again,
   * byte for byte, and otherwise the one it attached of the same type and platform, if any.
   */
  attachments?: { digest: string; artifactType: string; platform?: string; again: boolean; rebuiltDigest?: string }[];
  diffText?: string;
}

/** Reads the lock attached to `repository@digest` (one of its `referrers`): its bytes and the build record. */
async function attachedLock(repository: string, digest: string, referrers: Referrer[], settings: Settings): Promise<{ bytes: Buffer; record: BuildRecord; referrer: string }> {
  const ref = `${repository}@${digest}`;
  const locks = referrers.filter((r) => r.artifactType === LOCK_ARTIFACT_TYPE);
  if (locks.length > 1) {
    throw new KilnError(`${ref} has ${locks.length} lock attachments (${locks.map((l) => l.digest).join(", ")}), and kiln build attaches one`, "someone attached another: see which one the site's key covers with kiln verify-signature; nothing was cloned or run");
  }
  const first = locks[0];
  if (!first) throw new KilnError(`${ref} has no attached lock (no ${LOCK_ARTIFACT_TYPE} referrer)`, "it was not pushed by `kiln build --push`, or its attachments were not copied along with it");
  const manifest = JSON.parse((await fetchVerified(repository, first.digest, "manifest", settings)).toString("utf8")) as ArtifactManifest;
  if (manifest.subject?.digest !== digest) throw new KilnError(`the lock ${first.digest} listed for ${ref} refers to ${manifest.subject?.digest ?? "nothing"}`, "the registry's referrers listing is inconsistent");
  const blob = manifest.layers?.[0];
  if (!blob) throw new KilnError(`the lock artifact ${first.digest} of ${ref} has no blob`);
  const bytes = await fetchVerified(repository, blob.digest, "blob", settings);
  return { bytes, record: buildRecordOf(manifest.annotations, ref), referrer: first.digest };
}

/**
 * Puts each parent the lock pins into the fresh store: by digest from the
 * local store when it holds it, else rebuilt from the checkout (its own
 * parents first), which must give the pinned digest.
 */
async function provideParents(image: LoadedImage, root: string, local: OciStore, fresh: OciStore, opts: RebuildOptions, out: RebuildResult["parents"]): Promise<void> {
  const lock = await readLock(image.dir);
  for (const [name, ref] of Object.entries(image.def.parents)) {
    const storeRef = await storeRefOf(ref, image);
    const digest = lock?.parents?.[name]?.index;
    if (!digest) throw new KilnError(`the lock of ${image.name} pins no digest for its parent ${storeRef}`, "the revision's lock is incomplete: it cannot be rebuilt");
    if (out.some((p) => p.digest === digest)) continue;
    if (await local.hasBlob(digest)) {
      await withTempDir("kiln-rebuild-parent-", async (tmp) => {
        await local.exportLayout(digest, tmp);
        await fresh.importLayout(tmp, storeRef);
      });
      out.push({ ref: storeRef, digest, from: "local store" });
      opts.log?.(`parent ${storeRef}: ${digest} from the local store`);
      continue;
    }
    const parent = await loadImage(splitRef(storeRef).image, root);
    await provideParents(parent, root, local, fresh, opts, out);
    opts.log?.(`parent ${storeRef}: not in the local store, rebuilding it from the checkout`);
    const built = await buildImage({ ref: storeRef, progress: "quiet", noCache: opts.noCache }, { settings: { ...opts.settings, store: fresh.dir }, root });
    if (built.digest !== digest) throw new KilnError(`parent ${storeRef} rebuilt from the checkout is ${built.digest}, not the pinned ${digest}`, `the parent is not reproducible here: check it with kiln verify ${storeRef}, or put the pinned parent in the local store`);
    out.push({ ref: storeRef, digest, from: "rebuilt" });
  }
}

/**
 * Why the catalog may be cloned and run, or a refusal: the user named it,
 * the site lists it, or the lock attachment is signed by the site's key.
 * An annotation alone is never enough.
 */
async function trustCatalog(repository: string, lockDigest: string, catalog: string, opts: RebuildOptions, refArg: string): Promise<string> {
  if (opts.catalog !== undefined) return "named with --catalog";
  if (isTrustedCatalog(catalog, opts.settings.rebuild.trustedCatalogs)) return "listed in rebuild.trustedCatalogs";
  const signed = await attachmentSignedBySite(repository, lockDigest, opts.settings);
  if (signed.covered) return `lock attachment signed with key ${signed.key}`;
  throw new KilnError(
    `not rebuilding ${refArg}: its lock attachment names the catalog ${catalog}, and nothing the site trusts vouches for it (not named with --catalog, not in rebuild.trustedCatalogs, lock attachment not signed: ${signed.why})`,
    "rebuilding runs the catalog's definitions as code: if you trust that catalog, name it with --catalog or add it to rebuild.trustedCatalogs; nothing was cloned or run",
  );
}

/** The clone of `catalog`: the site's git.insteadOf rewrites apply; `file:` only when the user or the site named it. */
function cloneOf(catalog: string, opts: RebuildOptions): CatalogClone {
  const fetchUrl = rewriteGitUrl(catalog, opts.settings.git.insteadOf);
  const named = opts.catalog !== undefined || fetchUrl !== catalog;
  const fileAllowed = named && (isFileTransport(catalog) || isFileTransport(fetchUrl));
  const rewrittenScheme = fetchUrl !== catalog ? /^([a-z][a-z0-9+.-]*):\/\//i.exec(fetchUrl)?.[1]?.toLowerCase() : undefined;
  const transports = [...REMOTE_SCHEMES, ...(fileAllowed ? ["file"] : []), ...(rewrittenScheme && !["file", ...REMOTE_SCHEMES].includes(rewrittenScheme) ? [rewrittenScheme] : [])];
  return { url: catalog, fetchUrl, transports };
}

export async function rebuildFromRegistry(refArg: string, opts: RebuildOptions): Promise<RebuildResult> {
  const { repository, digest } = parseDigestRef(refArg);
  if (opts.revision !== undefined) {
    const why = revisionProblem(opts.revision);
    if (why) throw new KilnError(`--revision ${JSON.stringify(opts.revision)}: ${why}`, "name a commit, tag or branch of the catalog");
  }
  if (opts.catalog !== undefined) {
    const why = catalogUrlProblem(opts.catalog, true);
    if (why) throw new KilnError(`--catalog ${JSON.stringify(opts.catalog)}: ${why}`, "name a git URL (https, ssh, git, file) or a local clone");
  }
  opts.log?.(`reading the lock attached to ${refArg}`);
  const referrers = await remoteReferrers(repository, digest, opts.settings);
  const { bytes, record, referrer } = await attachedLock(repository, digest, referrers, opts.settings);
  checkBuildRecord(record, refArg);
  const revision = opts.revision ?? record.revision?.commit;
  if (!revision) throw new KilnError(`the lock attached to ${refArg} records no catalog revision (it was built outside a git checkout)`, "name one with --revision and the catalog with --catalog");
  const catalog = opts.catalog ?? record.revision?.source;
  if (!catalog) throw new KilnError(`the lock attached to ${refArg} records no catalog URL (its origin was a local path, or none)`, "pass the catalog's git URL or a local clone with --catalog");
  const trustedBy = await trustCatalog(repository, referrer, catalog, opts, refArg);
  if (record.revision?.dirty && !opts.revision) opts.log?.(`note: ${record.image} was built from uncommitted changes on top of ${revision}: the rebuild may differ`);
  const ref = `${record.image}:${record.target}`;
  const clone = cloneOf(catalog, opts);
  return withTempDir("kiln-rebuild-catalog-", async (root) => {
    opts.log?.(`checking out ${revision} of ${catalog} (${trustedBy})`);
    await cloneCatalog(clone, root);
    const commit = await resolveCommit(clone, root, revision);
    // The lock is compared in git's objects: nothing of the catalog is a file yet, nothing of it has run.
    const lockFile = `images/${record.image}/kiln.lock.json`;
    const atRevision = await fileAtCommit(root, commit, lockFile);
    if (!atRevision?.equals(bytes)) {
      throw new KilnError(`the lock of ${record.image} at ${commit} is ${atRevision ? "not" : "missing, not"} the one attached to ${refArg}`, "the image was not built from that revision of this catalog: name the right one with --catalog (or --revision); nothing of the catalog was run");
    }
    await checkoutCommit(root, commit, record.revision?.source);
    // Definitions import kiln from the catalog's `src/`; a catalog that does not carry kiln gets this one, and a catalog
    // that carries it without its packages (node_modules is never committed) gets this kiln's, so its definitions load.
    if (!existsSync(path.join(root, "src", "index.ts"))) await fs.symlink(path.join(REPO_ROOT, "src"), path.join(root, "src"));
    if (!existsSync(path.join(root, "node_modules"))) await fs.symlink(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"));
    const image = await loadImage(record.image, root);
    const local = await OciStore.open(storeDir(opts.settings));
    return withTempDir("kiln-rebuild-store-", async (dir) => {
      const fresh = await OciStore.open(dir);
      const parents: RebuildResult["parents"] = [];
      await provideParents(image, root, local, fresh, opts, parents);
      opts.log?.(`building ${ref} (${record.platforms.join(", ")}) into a fresh store`);
      const built = await buildImage(
        { ref, progress: "quiet", noCache: opts.noCache, ...(record.platforms.length ? { platforms: record.platforms as Platform[] } : {}), ...(record.buildArgs ? { buildArgs: record.buildArgs } : {}) },
        { settings: { ...opts.settings, store: dir }, root },
      );
      const rebuiltReferrers = await listReferrers(fresh, built.digest);
      const rebuiltLock = rebuiltReferrers.find((r) => r.artifactType === LOCK_ARTIFACT_TYPE)?.digest;
      const lock = { attached: referrer, ...(rebuiltLock ? { rebuilt: rebuiltLock } : {}) };
      const attachments = referrers
        .filter((r) => r.artifactType !== LOCK_ARTIFACT_TYPE)
        .map((r) => {
          const platform = r.annotations?.[PLATFORM_ANNOTATION];
          const again = rebuiltReferrers.some((b) => b.digest === r.digest);
          const counterpart = again ? undefined : rebuiltReferrers.find((b) => b.artifactType === r.artifactType && b.annotations?.[PLATFORM_ANNOTATION] === platform);
          return { digest: r.digest, artifactType: r.artifactType, ...(platform ? { platform } : {}), again, ...(counterpart ? { rebuiltDigest: counterpart.digest } : {}) };
        });
      const result: RebuildResult = { ref, image: record.image, target: record.target, revision: commit, catalog, trustedBy, parents, identical: built.digest === digest, rebuilt: built.digest, lock, attachments };
      if (!result.identical) {
        await withTempDir("kiln-rebuild-pulled-", async (pulledDir) => {
          await pullToLayout(repository, digest, pulledDir, opts.settings);
          const pulled = await OciStore.open(pulledDir);
          const a = sideOf(refArg, pulled, await pulled.require(digest));
          const b = sideOf(`rebuilt ${ref}`, fresh, await fresh.require(built.digest));
          result.diffText = formatDiff(await diffImages(a, b), { a: a.label, b: b.label });
        });
      }
      return result;
    });
  });
}

/** Human lines: where it came from, then "identical" or the diff. */
export function formatRebuild(r: RebuildResult): string {
  const lines = [`${r.ref} from ${r.catalog} at ${r.revision}`];
  for (const p of r.parents) lines.push(`  parent ${p.ref} ${p.digest} (${p.from === "rebuilt" ? "rebuilt from the checkout" : "from the local store"})`);
  if (r.identical) {
    lines.push(`identical: ${r.rebuilt}`, `  lock attachment ${r.lock.attached}${r.lock.rebuilt === r.lock.attached ? " (attached again, the same)" : `, rebuilt one ${r.lock.rebuilt ?? "none"}`}`);
    const others = r.attachments ?? [];
    const again = others.filter((a) => a.again);
    if (again.length) lines.push(`  ${again.length} other attachment${again.length > 1 ? "s" : ""} (${[...new Set(again.map((a) => a.artifactType))].sort().join(", ")}) attached again, the same`);
    for (const a of others.filter((a) => !a.again)) {
      lines.push(`  ${a.artifactType}${a.platform ? ` (${a.platform})` : ""} ${a.digest}: ${a.rebuiltDigest ? `the rebuild attached another, ${a.rebuiltDigest}` : "the rebuild attached none (no SBOM could be made: see the build's message above)"}`);
    }
  } else lines.push(`different: rebuilt ${r.rebuilt}`, ...(r.diffText ?? "").trimEnd().split("\n").map((l) => `  ${l}`));
  return lines.join("\n") + "\n";
}
