/**
 * What to run when an image's parents are not built yet: `kiln build IMAGE --with-parents`, with
 * the images that command would build, so a first build from an empty store needs no guessing.
 */
import { loadCatalog, loadImage } from "../definition/catalog.ts";
import { KilnError } from "../errors.ts";
import type { OciStore } from "../oci/store.ts";
import { catalogRoot } from "../paths.ts";
import { readLock } from "../lock/io.ts";
import { storeRefOf } from "../lock/resolve.ts";
import { splitRef } from "../plan/plan.ts";
import type { Settings } from "../settings/schema.ts";
import { counted } from "../util/words.ts";
import { buildGraph, defaultTargetOf, selectNodes, type CatalogGraph } from "./graph.ts";
import { assess, type Freshness } from "./staleness.ts";
import { CatalogState } from "./state.ts";

/** `debian` for an image of one target, `base:runtime` otherwise: refs as a person types them. */
export function shortRef(graph: CatalogGraph, ref: string): string {
  const node = graph.nodes.get(ref)!;
  return Object.keys(node.image.def.targets).length === 1 ? node.image.name : ref;
}

/** `kiln build REF --with-parents (builds 5 images: a, b, ...)`: the nodes of `selected` a build would make, parents first. */
export function withParentsCommand(userRef: string, graph: CatalogGraph, selected: string[], freshness: Map<string, Freshness>): string {
  const builds = selected.filter((r) => freshness.get(r)?.status !== "up-to-date").map((r) => shortRef(graph, r));
  return `kiln build ${userRef} --with-parents (builds ${counted(builds.length, "image")}: ${builds.join(", ")})`;
}

/** The with-parents command for `userRef` against the store as it is now (no store: everything is built). */
export async function withParentsHint(userRef: string, ctx: { settings: Settings; store?: OciStore; root?: string }): Promise<string> {
  const catalog = await loadCatalog(ctx.root ?? catalogRoot());
  const graph = buildGraph(catalog);
  const selected = selectNodes(graph, catalog, { refs: [userRef], withParents: true });
  // No engine is asked: its version only decides whether a built image is stale, not whether it exists.
  const freshness = ctx.store ? await assess(graph, selected, { store: ctx.store, state: CatalogState.forStore(ctx.store.dir), settings: ctx.settings }) : new Map<string, Freshness>();
  return withParentsCommand(userRef, graph, selected, freshness);
}

/** The hint, or the bare command when the catalog cannot be assessed (a broken definition elsewhere is reported by the commands that need it). */
async function hintOrBare(userRef: string, ctx: { settings: Settings; store?: OciStore; root?: string }): Promise<string> {
  return withParentsHint(userRef, ctx).catch((e: unknown) => {
    if (e instanceof KilnError) return `kiln build ${userRef} --with-parents`;
    throw e;
  });
}

/**
 * Refuses to plan or build `userRef` when one of its parents is in the store neither at its locked
 * digest nor (unlocked) under its name: the build could not start, and the fix is to build the parents.
 */
export async function requireParentsInStore(userRef: string, ctx: { settings: Settings; store: OciStore; root?: string }): Promise<void> {
  const image = await loadImage(splitRef(userRef).image, ctx.root ?? catalogRoot());
  const lock = await readLock(image.dir);
  for (const [name, ref] of Object.entries(image.def.parents)) {
    const pinned = lock?.parents?.[name];
    const storeRef = await storeRefOf(ref, image);
    if (pinned ? await ctx.store.hasBlob(pinned.index) : await ctx.store.resolve(storeRef)) continue;
    throw new KilnError(`parent ${storeRef} of ${userRef} is not in the store ${ctx.store.dir}`, `build it with its parents: ${await hintOrBare(userRef, ctx)}`);
  }
}

/** Refuses to test `userRef` when it is not in the store, naming the build that puts it there. */
export async function requireBuilt(userRef: string, ctx: { settings: Settings; store: OciStore; root?: string }): Promise<void> {
  const { image: name, target } = splitRef(userRef);
  const image = await loadImage(name, ctx.root ?? catalogRoot());
  const chosen = target ?? defaultTargetOf(image);
  // An unknown target is reported, with the known ones, by the test itself.
  if (!(chosen in image.def.targets) || (await ctx.store.resolve(`${name}:${chosen}`))) return;
  throw new KilnError(`${userRef} is not in the store ${ctx.store.dir}`, `build it first: ${await hintOrBare(userRef, ctx)}`);
}
