/**
 * The catalog graph: one node per image target (`base:runtime`), an edge from
 * every target of an image to each parent its definition names. Problems
 * (unknown parents, unknown targets, cycles) are found here, before anything
 * builds, and reported as one line each.
 */
import { distance } from "fastest-levenshtein";
import type { Catalog, LoadedImage } from "../definition/catalog.ts";
import type { Category } from "../definition/schema.ts";
import { KilnError } from "../errors.ts";
import { defaultTargetOf, splitRef } from "../plan/plan.ts";

export { defaultTargetOf };

export interface GraphNode {
  /** `name:target` */
  ref: string;
  image: LoadedImage;
  target: string;
  /** Named context -> parent node ref (`name:target`), as the definition declares them. */
  parents: Record<string, string>;
}

export interface CatalogGraph {
  nodes: Map<string, GraphNode>;
  /** Every node, parents before children; ties broken by ref so the order is stable. */
  order: string[];
  /** node ref -> refs of the nodes that name it as a parent. */
  children: Map<string, string[]>;
}

/** Resolves a catalog reference to a node ref, or throws a KilnError naming what is missing. */
export function resolveRef(catalog: Catalog, ref: string, neededBy?: string): string {
  const { image: name, target } = splitRef(ref);
  const who = neededBy ? `${neededBy} needs parent "${ref}" which` : `"${ref}"`;
  const image = catalog.images.get(name);
  if (!image) {
    const close = closest(name, [...catalog.images.keys()]);
    throw new KilnError(`${who} is not in the catalog${close ? ` (did you mean ${close}?)` : ""}`, "`kiln ls` lists the catalog");
  }
  const t = target ?? defaultTargetOf(image);
  if (!(t in image.def.targets)) {
    const targets = Object.keys(image.def.targets);
    const close = closest(t, targets);
    throw new KilnError(
      `${neededBy ? `${neededBy} needs parent "${ref}": ` : ""}image ${name} has no target "${t}"${close ? ` (did you mean ${name}:${close}?)` : ""}`,
      `its targets: ${targets.join(", ")}`,
    );
  }
  return `${name}:${t}`;
}

/** The closest of `candidates` to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) || word.startsWith(c) ? 1 : distance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Builds the graph of the whole catalog; throws on the first unknown parent or cycle. */
export function buildGraph(catalog: Catalog): CatalogGraph {
  const nodes = new Map<string, GraphNode>();
  for (const image of [...catalog.images.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const target of Object.keys(image.def.targets).sort()) {
      const ref = `${image.name}:${target}`;
      const parents: Record<string, string> = {};
      for (const [context, parentRef] of Object.entries(image.def.parents)) parents[context] = resolveRef(catalog, parentRef, ref);
      nodes.set(ref, { ref, image, target, parents });
    }
  }
  const children = new Map<string, string[]>([...nodes.keys()].map((r) => [r, []]));
  for (const node of nodes.values()) for (const p of new Set(Object.values(node.parents))) children.get(p)!.push(node.ref);
  return { nodes, children, order: topologicalOrder(nodes) };
}

/** Kahn's algorithm with a sorted ready set; on a cycle, reports one cycle path. */
function topologicalOrder(nodes: Map<string, GraphNode>): string[] {
  const pending = new Map<string, number>();
  const children = new Map<string, string[]>();
  for (const n of nodes.values()) {
    const parents = new Set(Object.values(n.parents));
    pending.set(n.ref, parents.size);
    for (const p of parents) children.set(p, [...(children.get(p) ?? []), n.ref]);
  }
  const ready = [...pending].filter(([, count]) => count === 0).map(([ref]) => ref).sort();
  const order: string[] = [];
  while (ready.length) {
    const ref = ready.shift()!;
    order.push(ref);
    for (const child of children.get(ref) ?? []) {
      const left = pending.get(child)! - 1;
      pending.set(child, left);
      if (left === 0) {
        ready.push(child);
        ready.sort();
      }
    }
  }
  if (order.length < nodes.size) {
    const cycle = findCycle(nodes, new Set([...pending].filter(([, c]) => c > 0).map(([r]) => r)));
    throw new KilnError(`cycle: ${cycle.join(" -> ")}`, "an image cannot be its own ancestor; remove one of these parents");
  }
  return order;
}

/** Walks parent edges among the unresolved nodes until a node repeats. */
function findCycle(nodes: Map<string, GraphNode>, stuck: Set<string>): string[] {
  let ref = [...stuck].sort()[0]!;
  const path: string[] = [];
  const seen = new Map<string, number>();
  while (!seen.has(ref)) {
    seen.set(ref, path.length);
    path.push(ref);
    ref = Object.values(nodes.get(ref)!.parents).filter((p) => stuck.has(p)).sort()[0]!;
  }
  return [...path.slice(seen.get(ref)!), ref].map(shortRef(nodes));
}

/** Shows `name` for an image with one target, `name:target` otherwise: what the user wrote. */
function shortRef(nodes: Map<string, GraphNode>): (ref: string) => string {
  return (ref) => {
    const node = nodes.get(ref)!;
    return Object.keys(node.image.def.targets).length === 1 ? node.image.name : ref;
  };
}

export interface Selection {
  all?: boolean;
  category?: Category;
  /** Catalog references (`name` means every target of that image). */
  refs?: string[];
  withParents?: boolean;
}

/** The node refs a selection names, in build order; `withParents` adds every ancestor. */
export function selectNodes(graph: CatalogGraph, catalog: Catalog, selection: Selection): string[] {
  const chosen = new Set<string>();
  if (selection.all) for (const ref of graph.nodes.keys()) chosen.add(ref);
  if (selection.category) {
    for (const node of graph.nodes.values()) if (node.image.def.category === selection.category) chosen.add(node.ref);
  }
  for (const ref of selection.refs ?? []) {
    const { image: name, target } = splitRef(ref);
    if (target === undefined && catalog.images.has(name)) {
      for (const t of Object.keys(catalog.images.get(name)!.def.targets)) chosen.add(`${name}:${t}`);
    } else chosen.add(resolveRef(catalog, ref));
  }
  if (selection.withParents) for (const ref of [...chosen]) for (const a of ancestors(graph, ref)) chosen.add(a);
  return graph.order.filter((r) => chosen.has(r));
}

export function ancestors(graph: CatalogGraph, ref: string): Set<string> {
  const out = new Set<string>();
  const visit = (r: string): void => {
    for (const p of Object.values(graph.nodes.get(r)!.parents)) if (!out.has(p)) (out.add(p), visit(p));
  };
  visit(ref);
  return out;
}

export function descendants(graph: CatalogGraph, ref: string): Set<string> {
  const out = new Set<string>();
  const visit = (r: string): void => {
    for (const c of graph.children.get(r) ?? []) if (!out.has(c)) (out.add(c), visit(c));
  };
  visit(ref);
  return out;
}
