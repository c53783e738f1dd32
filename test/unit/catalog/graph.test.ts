import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../src/definition/catalog.ts";
import { buildGraph, descendants, selectNodes } from "../../../src/catalog/graph.ts";
import { writeCatalog } from "./fixture.ts";

describe("catalog graph", () => {
  it("orders parents before children, one node per target", async () => {
    const root = await writeCatalog({
      debian: {},
      base: { def: { parents: { debian: "debian" }, targets: { builder: {}, runtime: {} }, defaultTarget: "runtime" } },
      app: { def: { category: "tooling", parents: { base: "base:runtime", build: "base:builder" } } },
      tool: { def: { category: "tooling", parents: { debian: "debian" } } },
    });
    const graph = buildGraph(await loadCatalog(root));
    expect(graph.order).toEqual(["debian:image", "base:builder", "base:runtime", "app:image", "tool:image"]);
    expect(graph.nodes.get("app:image")!.parents).toEqual({ base: "base:runtime", build: "base:builder" });
    expect([...descendants(graph, "debian:image")].sort()).toEqual(["app:image", "base:builder", "base:runtime", "tool:image"]);
  });

  it("selects by category, by image, and with parents", async () => {
    const root = await writeCatalog({
      debian: {},
      base: { def: { parents: { debian: "debian" }, targets: { builder: {}, runtime: {} } } },
      app: { def: { category: "tooling", parents: { base: "base:runtime" } } },
      other: { def: { category: "experimental" } },
    });
    const catalog = await loadCatalog(root);
    const graph = buildGraph(catalog);
    expect(selectNodes(graph, catalog, { category: "tooling" })).toEqual(["app:image"]);
    expect(selectNodes(graph, catalog, { refs: ["app"], withParents: true })).toEqual(["debian:image", "base:runtime", "app:image"]);
    expect(selectNodes(graph, catalog, { refs: ["base"] })).toEqual(["base:builder", "base:runtime"]);
    expect(selectNodes(graph, catalog, { all: true })).toHaveLength(5);
    expect(() => selectNodes(graph, catalog, { refs: ["bse"] })).toThrow(/"bse" is not in the catalog \(did you mean base\?\)/);
  });

  it("reports a missing parent with a suggestion, before anything runs", async () => {
    const root = await writeCatalog({
      debian: {},
      base: { def: { parents: { debian: "debain" }, targets: { runtime: {} } } },
    });
    const catalog = await loadCatalog(root);
    expect(() => buildGraph(catalog)).toThrow('base:runtime needs parent "debain" which is not in the catalog (did you mean debian?)');
  });

  it("reports a missing target of a parent", async () => {
    const root = await writeCatalog({
      base: { def: { targets: { builder: {}, runtime: {} } } },
      app: { def: { parents: { base: "base:runtim" } } },
    });
    await expect(loadCatalog(root).then(buildGraph)).rejects.toThrow('app:image needs parent "base:runtim": image base has no target "runtim" (did you mean base:runtime?)');
  });

  it("reports a cycle as a path", async () => {
    const root = await writeCatalog({
      a: { def: { parents: { b: "b" } } },
      b: { def: { parents: { c: "c" } } },
      c: { def: { parents: { a: "a" } } },
      d: {},
    });
    await expect(loadCatalog(root).then(buildGraph)).rejects.toThrow("cycle: a -> b -> c -> a");
  });

  it("reports an image that is its own parent", async () => {
    const root = await writeCatalog({ a: { def: { parents: { self: "a" } } } });
    await expect(loadCatalog(root).then(buildGraph)).rejects.toThrow("cycle: a -> a");
  });
});
