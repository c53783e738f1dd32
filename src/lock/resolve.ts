/**
 * Resolvers: one declared input -> its newest pin. Git refs through
 * `git ls-remote`, downloads by fetching and hashing (and checking a detached
 * signature when one is declared), parents from the local store.
 */
import path from "node:path";
import { loadImage, type LoadedImage } from "../definition/catalog.ts";
import { KilnError } from "../errors.ts";
import { OciStore } from "../oci/store.ts";
import { cacheDir, storeDir } from "../paths.ts";
import { defaultTargetOf } from "../plan/plan.ts";
import type { Settings } from "../settings/schema.ts";
import { ContentStore } from "../util/cas.ts";
import type { DeclaredDownload } from "./declared.ts";
import { fetchToCache, signatureUrl } from "./download.ts";
import { resolveGitRef } from "./git.ts";
import type { DownloadLock, GitLock, ParentLock } from "./schema.ts";
import { findKeyFile, normalizeFingerprint, verifyDetachedSignature } from "./signature.ts";

export interface ResolveContext {
  image: LoadedImage;
  settings: Settings;
}

export function contentStore(settings: Settings): ContentStore {
  return new ContentStore(path.join(cacheDir(settings), "blobs"));
}

export async function resolveGit(name: string, decl: { url: string; ref: string }, ctx: ResolveContext): Promise<GitLock> {
  return { url: decl.url, ref: decl.ref, commit: await resolveGitRef(name, decl.url, decl.ref, ctx.settings.offline, ctx.settings.git.insteadOf) };
}

/** Fetches every URL of one download, hashes it into the cache, checks its signature; returns the pins per lock key. */
export async function resolveDownload(name: string, decl: DeclaredDownload, ctx: ResolveContext): Promise<Record<string, DownloadLock>> {
  const store = contentStore(ctx.settings);
  const fix = `fix the definition of ${ctx.image.name}`;
  const out: Record<string, DownloadLock> = {};
  for (const [key, url] of Object.entries(decl.urls)) {
    const what = `download ${name} (${key})`;
    const data = await fetchToCache({ store, url, algorithm: decl.algorithm, what, offline: ctx.settings.offline, fix });
    const pin: DownloadLock = { url, [decl.algorithm]: data.hex };
    if (decl.signature) {
      const sigUrl = signatureUrl(decl.signature.url, url, key);
      const sig = await fetchToCache({ store, url: sigUrl, algorithm: "sha256", what: `signature of ${what}`, offline: ctx.settings.offline, fix });
      const keyFile = await findKeyFile(ctx.image.dir, decl.signature.fingerprint);
      await verifyDetachedSignature({ what, dataFile: data.path, sigFile: sig.path, keyFile, fingerprint: decl.signature.fingerprint });
      pin.signature = { url: sigUrl, fingerprint: normalizeFingerprint(decl.signature.fingerprint), sha256: sig.hex };
    }
    out[key] = pin;
  }
  return out;
}

/** The store reference (`name:target`) a catalog reference stands for. */
export async function storeRefOf(catalogRef: string, image: LoadedImage): Promise<string> {
  const [name, target] = catalogRef.split(":");
  if (target) return catalogRef;
  const root = path.resolve(image.dir, "..", "..");
  return `${name}:${defaultTargetOf(await loadImage(name!, root))}`;
}

export async function resolveParent(name: string, ref: string, ctx: ResolveContext): Promise<ParentLock> {
  const store = await OciStore.open(storeDir(ctx.settings));
  const storeRef = await storeRefOf(ref, ctx.image);
  const found = await store.resolve(storeRef);
  if (!found) throw new KilnError(`parent ${name} of ${ctx.image.name}: ${storeRef} is not in the local store (${store.dir})`, `build it first: kiln build ${ref}`);
  const manifests = Object.fromEntries(Object.entries(found.manifests).map(([p, d]) => [p, d.digest]));
  return { ref, index: found.digest, manifests };
}
