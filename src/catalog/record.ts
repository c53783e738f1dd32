/**
 * For a single `kiln build REF` outside a catalog run: the store annotations
 * that record the build's inputs, so that `kiln status` and the next
 * `kiln build --all` know what the stored image was built from. Pass them to
 * buildImage as `annotations`.
 */
import { loadCatalog } from "../definition/catalog.ts";
import { OciStore } from "../oci/store.ts";
import { catalogRoot, storeDir } from "../paths.ts";
import type { Settings } from "../settings/schema.ts";
import { engineFingerprint } from "./engine.ts";
import { buildGraph, resolveRef } from "./graph.ts";
import { INPUTS_ANNOTATION } from "./inputs.ts";
import { currentInputs, storeEntries } from "./staleness.ts";
import { CatalogState } from "./state.ts";

export async function inputAnnotations(
  ref: string,
  settings: Settings,
  request: { platforms?: string[]; buildArgs?: Record<string, string> } = {},
  root = catalogRoot(),
): Promise<Record<string, string>> {
  const probing = engineFingerprint(settings);
  probing.catch(() => undefined);
  const catalog = await loadCatalog(root);
  const node = buildGraph(catalog).nodes.get(resolveRef(catalog, ref))!;
  const store = await OciStore.open(storeDir(settings));
  const ctx = { store, state: CatalogState.forStore(store.dir), settings, engine: await probing, ...request };
  const hash = await ctx.state.saveInputs(await currentInputs(node, ctx, await storeEntries(store)));
  return { [INPUTS_ANNOTATION]: hash };
}
