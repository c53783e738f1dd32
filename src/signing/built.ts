/**
 * What `kiln sign` may sign: only an image kiln built and stored here, and
 * only the attachments kiln made for it. A tag is the registry's word, so a
 * tag must resolve to the very digest the local store holds for the catalog
 * image that repository is named after; a digest must be one the store holds
 * a kiln lock attachment for. The attachments to sign come from the store,
 * never from the registry's listing.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { LOCK_ARTIFACT_TYPE } from "../build/attachments.ts";
import { loadCatalog } from "../definition/catalog.ts";
import { KilnError } from "../errors.ts";
import { listReferrers, type Referrer } from "../oci/referrers.ts";
import { OciStore } from "../oci/store.ts";
import { catalogRoot, storeDir } from "../paths.ts";
import { defaultTargetOf } from "../plan/plan.ts";
import type { Settings } from "../settings/schema.ts";
import { byDigest, formatPushedRef, type PushedRef } from "./reference.ts";

export interface BuiltImage {
  /** The store reference (`router:image`) it is stored as, when a catalog image names the repository. */
  ref?: string;
  /** The attachments kiln made for it (lock, SBOMs), from the store. */
  attachments: Referrer[];
}

/**
 * The catalog images (`name:target`) whose output repositories `repository`
 * ends with: what a push of them is named, whichever registry and namespace.
 * A catalog that cannot be loaded names none.
 */
export async function catalogRefsNaming(repository: string, root = catalogRoot()): Promise<string[]> {
  const catalog = await loadCatalog(root).catch((e: unknown) => {
    if (e instanceof KilnError) return undefined;
    throw e;
  });
  const refs: string[] = [];
  for (const image of catalog?.images.values() ?? []) {
    const def = image.def;
    for (const [targetName, target] of Object.entries(def.targets)) {
      const isDefault = targetName === defaultTargetOf(image);
      const names = target.outputs?.names ?? def.outputs.names ?? [isDefault ? `kiln/${image.name}` : `kiln/${image.name}-${targetName}`];
      if (names.some((n) => repository.endsWith(`/${n}`))) refs.push(`${image.name}:${targetName}`);
    }
  }
  return refs;
}

/** Checks that `digest` (what the registry serves for `pushed`) is what kiln built and stored; returns its stored attachments. */
export async function builtImage(pushed: PushedRef, digest: string, settings: Settings): Promise<BuiltImage> {
  const named = formatPushedRef(pushed);
  const dir = storeDir(settings);
  const notBuilt = (why: string): never => {
    throw new KilnError(`${named} resolves to ${digest}, ${why}`, "nothing was signed; sign only what kiln built here: kiln build IMAGE --push, then kiln sign");
  };
  if (!existsSync(path.join(dir, "index.json"))) return notBuilt(`and there is no local store (${dir}): kiln did not build it here`);
  const store = await OciStore.open(dir);
  if (pushed.tag !== undefined && pushed.digest === undefined) {
    const stored = [];
    for (const ref of await catalogRefsNaming(pushed.repository)) {
      const s = await store.resolve(ref);
      if (s) stored.push({ ref, digest: s.digest });
    }
    const match = stored.find((s) => s.digest === digest);
    if (!match && stored.length) {
      const other = stored.map((s) => `${s.digest} for ${s.ref}`).join(", ");
      throw new KilnError(
        `tag ${pushed.tag} of ${pushed.repository} resolves to ${digest}, but kiln built and stored ${other}`,
        `nothing was signed; the tag was moved since the push, or the store holds a newer build: push what you mean to sign again, or sign it by digest (${byDigest(pushed, stored[0]!.digest)})`,
      );
    }
  }
  const attachments = await listReferrers(store, digest);
  if (!attachments.some((a) => a.artifactType === LOCK_ARTIFACT_TYPE)) return notBuilt(`which kiln did not build here: the local store (${dir}) holds no lock attachment for it`);
  const ref = (await store.list()).find((s) => s.digest === digest)?.ref;
  return { ...(ref ? { ref } : {}), attachments };
}
