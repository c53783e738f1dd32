/**
 * The client and fixture images a target's scenarios run: catalog images
 * taken from the store by digest (checked before anything starts), loaded
 * into the engine once under unique tags that `kiln test` removes afterwards.
 */
import path from "node:path";
import { loadImage, type Catalog, type LoadedImage } from "../definition/catalog.ts";
import type { RuntimeExpectations } from "../definition/schema.ts";
import { KilnError } from "../errors.ts";
import { loadImage as loadIntoDocker } from "../oci/publish.ts";
import type { OciStore, StoredImage } from "../oci/store.ts";
import { splitRef } from "../plan/plan.ts";
import { clientImageRefs, missingClientFiles, runtimeField, type ClientProblem } from "./client-definition.ts";
import { clientImagesOf, nativePlatform } from "./client-plan.ts";
import * as docker from "./docker.ts";

/**
 * The client and fixture images the scenarios run, keyed as the definition
 * names them, checked before anything starts: the files the scenarios mount
 * exist, every image is a catalog image and is in the store for the engine's
 * own platform.
 */
export async function resolveClientImages(image: LoadedImage, target: string, runtime: RuntimeExpectations, store: OciStore, root: string): Promise<Map<string, StoredImage>> {
  const out = new Map<string, StoredImage>();
  if (!runtime.clients.length) return out;
  const rel = path.relative(process.cwd(), image.file) || image.file;
  const at = runtimeField(image, target);
  const fail = (p: ClientProblem, hint?: string) => new KilnError(`${rel}: ${p.field}: ${p.message}`, hint);
  const [missing] = await missingClientFiles(image.dir, runtime, at);
  if (missing) throw fail(missing);
  // Only the images the scenarios name: an unrelated broken definition does not stop this test.
  const names = [...new Set(runtime.clients.flatMap((s) => clientImagesOf(s).map((u) => splitRef(u.ref).image)))];
  const found = await Promise.all(names.map((n) => loadImage(n, root).catch(() => undefined)));
  const catalog: Catalog = { root, images: new Map(found.filter((i) => i !== undefined).map((i) => [i.name, i])) };
  const { refs, problems } = clientImageRefs(runtime, at, catalog);
  if (problems[0]) throw fail(problems[0], "`kiln ls` lists the catalog");
  const native = nativePlatform();
  for (const { given, ref, field } of refs) {
    const stored = out.get(given) ?? (await store.resolve(ref));
    if (!stored) throw fail({ field, message: `${ref} is not in the local store (${store.dir})` }, `build it: kiln build ${ref}`);
    if (!stored.manifests[native]) throw fail({ field, message: `${ref} has no ${native} image in the store (clients and fixtures run on the engine's own platform)` }, `build it: kiln build ${ref} --platform ${native}`);
    out.set(given, stored);
  }
  return out;
}

/**
 * Loads each client image not loaded yet (`loaded`: digest -> engine tag,
 * tracked for removal); returns the engine tag of a ref as the definition names it.
 */
export async function loadClientImages(store: OciStore, clients: Map<string, StoredImage>, loaded: Map<string, string>): Promise<(ref: string) => string> {
  for (const [ref, c] of clients) {
    if (loaded.has(c.digest)) continue;
    const { image, target } = splitRef(ref);
    const tag = `docker.io/kiln-test/${image}:${docker.uniqueName(target ?? "default")}`;
    loaded.set(c.digest, tag);
    docker.track(tag, ["rmi", "--force", tag]);
    await loadIntoDocker(store, c.digest, [tag]);
  }
  return (ref) => loaded.get(clients.get(ref)!.digest)!;
}
