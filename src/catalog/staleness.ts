/**
 * Is a stored image what a build would make now? Compares the current
 * inputs of each image target with the ones recorded when it was built,
 * and says which input changed. A target whose parent is out of date is
 * out of date too: rebuilding the parent will give it a new parent digest.
 */
import type { Platform } from "../definition/schema.ts";
import { REF_ANNOTATION, type OciStore } from "../oci/store.ts";
import type { Settings } from "../settings/schema.ts";
import type { CatalogGraph, GraphNode } from "./graph.ts";
import { ancestors } from "./graph.ts";
import { collectInputs, describeChanges, INPUTS_ANNOTATION, manifestHash, type InputManifest } from "./inputs.ts";
import { settingsInputs } from "./settings-inputs.ts";
import type { CatalogState } from "./state.ts";

export type FreshnessStatus = "up-to-date" | "stale" | "never-built";

export interface Freshness {
  ref: string;
  status: FreshnessStatus;
  /** Why it is stale, in words ("context file a.txt", "parent base digest changed"). */
  reasons: string[];
  /** The stored index digest, when there is one. */
  digest?: string;
  inputs: InputManifest;
  inputsHash: string;
}

export interface StalenessContext {
  store: OciStore;
  state: CatalogState;
  settings: Settings;
  /** Engine and driver versions, as one string; undefined when no engine answers. */
  engine?: string;
  /** Platforms asked for on the command line (default: each target's own). */
  platforms?: string[];
  /** Build args given on the command line. */
  buildArgs?: Record<string, string>;
}

/** The store's entries by reference: digest and annotations (one read of index.json). */
export async function storeEntries(store: OciStore): Promise<Map<string, { digest: string; annotations: Record<string, string> }>> {
  const idx = await store.index();
  const out = new Map<string, { digest: string; annotations: Record<string, string> }>();
  for (const d of idx.manifests) {
    const ref = d.annotations?.[REF_ANNOTATION];
    if (ref) out.set(ref, { digest: d.digest, annotations: d.annotations ?? {} });
  }
  return out;
}

export function platformsOf(node: GraphNode, requested?: string[]): string[] {
  const declared: string[] = node.image.def.targets[node.target]?.platforms ?? node.image.def.platforms;
  if (!requested?.length) return [...declared];
  const wanted = requested.flatMap((p) => p.split(",")).map((p) => p.trim());
  return declared.filter((p) => wanted.includes(p as Platform));
}

/** The current inputs of one node, with parent digests read from `entries`. */
export async function currentInputs(node: GraphNode, ctx: StalenessContext, entries: Awaited<ReturnType<typeof storeEntries>>): Promise<InputManifest> {
  return collectInputs(node.image, node.target, {
    parentDigests: Object.fromEntries(Object.entries(node.parents).map(([name, ref]) => [name, entries.get(ref)?.digest])),
    platforms: platformsOf(node, ctx.platforms),
    engine: ctx.engine ?? "unknown",
    settings: settingsInputs(ctx.settings, node.image.def, ctx.buildArgs, ctx.state.dir),
  });
}

/** One node against its store entry, ignoring the state of its parents. */
export async function checkNode(node: GraphNode, ctx: StalenessContext, entries: Awaited<ReturnType<typeof storeEntries>>): Promise<Freshness> {
  let inputs = await currentInputs(node, ctx, entries);
  const entry = entries.get(node.ref);
  const result = (status: FreshnessStatus, reasons: string[]): Freshness => ({ ref: node.ref, status, reasons, digest: entry?.digest, inputs, inputsHash: manifestHash(inputs) });
  if (!entry) return result("never-built", ["never built"]);
  const recorded = entry.annotations[INPUTS_ANNOTATION];
  if (!recorded) return result("stale", ["built without a record of its inputs"]);
  if (recorded === manifestHash(inputs)) return result("up-to-date", []);
  const before = await ctx.state.loadInputs(recorded);
  if (!before) return result("stale", ["inputs changed (the record of the previous inputs is gone)"]);
  // No engine answers: nothing to compare it with, so take it as unchanged.
  if (ctx.engine === undefined) inputs = { ...inputs, engine: before.engine };
  if (recorded === manifestHash(inputs)) return result("up-to-date", []);
  const reasons = describeChanges(before, inputs);
  return result("stale", reasons.length ? reasons : ["inputs changed"]);
}

/**
 * Freshness of `refs` and of all their ancestors, parents first, so that
 * a stale parent makes its descendants stale.
 */
export async function assess(graph: CatalogGraph, refs: string[], ctx: StalenessContext): Promise<Map<string, Freshness>> {
  const wanted = new Set(refs);
  for (const r of refs) for (const a of ancestors(graph, r)) wanted.add(a);
  const entries = await storeEntries(ctx.store);
  const order = graph.order.filter((r) => wanted.has(r));
  const own = await Promise.all(order.map((r) => checkNode(graph.nodes.get(r)!, ctx, entries)));
  const out = new Map<string, Freshness>();
  order.forEach((ref, i) => {
    const f = own[i]!;
    for (const parent of new Set(Object.values(graph.nodes.get(ref)!.parents))) {
      const p = out.get(parent)!;
      if (p.status === "up-to-date") continue;
      f.reasons.push(`parent ${parent} is ${p.status === "never-built" ? "not built" : "stale"}`);
      if (f.status === "up-to-date") f.status = "stale";
    }
    out.set(ref, f);
  });
  return out;
}

/** Marks the store entry of `ref` as built from `inputs` (after a successful build). */
export async function recordInputs(store: OciStore, state: CatalogState, ref: string, inputs: InputManifest): Promise<string> {
  const hash = await state.saveInputs(inputs);
  if (!(await store.annotate(ref, { [INPUTS_ANNOTATION]: hash }))) throw new Error(`${ref} is not in the store after its build`);
  return hash;
}
