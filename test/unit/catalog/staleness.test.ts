import fs from "node:fs/promises";
import path from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { buildGraph, type CatalogGraph } from "../../../src/catalog/graph.ts";
import { assess, currentInputs, recordInputs, storeEntries, type StalenessContext } from "../../../src/catalog/staleness.ts";
import { CatalogState } from "../../../src/catalog/state.ts";
import { loadCatalog } from "../../../src/definition/catalog.ts";
import { OciStore } from "../../../src/oci/store.ts";
import { settingsSchema } from "../../../src/settings/schema.ts";
import { writeCatalog } from "./fixture.ts";
import { fakeBuild } from "./store-fixture.ts";
import { tempDir } from "../../support/temp-dir.ts";

// No engine in unit tests: a fixed one.
vi.mock("../../../src/engine/detect.ts", () => ({
  detectEngine: async () => ({ usable: true, driver: "buildx", clients: { buildx: "0.13.1" }, engine: { version: "26.1.5" } }),
}));

let root: string;
let ctx: StalenessContext;
let graph: CatalogGraph;

async function reload(): Promise<void> {
  graph = buildGraph(await loadCatalog(root));
}

/** Builds (as far as staleness can tell) every ref, parents first. */
async function buildAll(refs = graph.order, salt = ""): Promise<void> {
  for (const ref of refs) {
    await fakeBuild(ctx.store, ref, salt);
    await recordInputs(ctx.store, ctx.state, ref, await currentInputs(graph.nodes.get(ref)!, ctx, await storeEntries(ctx.store)));
  }
}

async function statusOf(): Promise<Record<string, string>> {
  const result = await assess(graph, graph.order, ctx);
  return Object.fromEntries([...result.values()].map((f) => [f.ref, f.status === "up-to-date" ? "up-to-date" : `${f.status}: ${f.reasons.join("; ")}`]));
}

beforeEach(async () => {
  root = await writeCatalog({
    debian: { files: { "a.txt": "one\n", "notes/ignored.md": "x\n", ".dockerignore": "notes\n" } },
    app: { def: { parents: { debian: "debian" }, secrets: ["curlrc"] } },
    tool: { def: { parents: { app: "app" } } },
    other: {},
  });
  const storeDir = path.join(await tempDir("kiln-store-"), "store");
  ctx = { store: await OciStore.open(storeDir), state: CatalogState.forStore(storeDir), settings: settingsSchema.parse({}), engine: "buildx 0.13.1" };
  await reload();
});

describe("staleness", () => {
  it("says never built, then up to date after a build", async () => {
    expect(await statusOf()).toEqual({
      "app:image": "never-built: never built; parent debian:image is not built",
      "debian:image": "never-built: never built",
      "other:image": "never-built: never built",
      "tool:image": "never-built: never built; parent app:image is not built",
    });
    await buildAll();
    expect(Object.values(await statusOf())).toEqual(["up-to-date", "up-to-date", "up-to-date", "up-to-date"]);
  });

  it("a changed context file makes the image and every descendant stale, nothing else", async () => {
    await buildAll();
    await fs.writeFile(path.join(root, "images/debian/a.txt"), "two\n");
    expect(await statusOf()).toEqual({
      "debian:image": "stale: context file a.txt",
      "app:image": "stale: parent debian:image is stale",
      "tool:image": "stale: parent app:image is stale",
      "other:image": "up-to-date",
    });
    // Rebuilding the parent changes its digest: the child now names that.
    await buildAll(["debian:image"], "v2");
    const after = await statusOf();
    expect(after["debian:image"]).toBe("up-to-date");
    expect(after["app:image"]).toMatch(/^stale: parent debian digest changed \([0-9a-f]{12} -> [0-9a-f]{12}\)$/);
  });

  it("ignores what .dockerignore excludes, notices added and removed files and modes", async () => {
    await buildAll();
    await fs.writeFile(path.join(root, "images/debian/notes/ignored.md"), "changed\n");
    expect((await statusOf())["debian:image"]).toBe("up-to-date");
    await fs.writeFile(path.join(root, "images/debian/b.txt"), "new\n");
    await fs.chmod(path.join(root, "images/debian/a.txt"), 0o755);
    expect((await statusOf())["debian:image"]).toBe("stale: context files a.txt, b.txt (added)");
  });

  it("names definition, lock, Dockerfile, engine and settings changes", async () => {
    await buildAll();
    const appDir = path.join(root, "images/app");
    await fs.appendFile(path.join(appDir, "Dockerfile"), "LABEL x=y\n");
    await fs.writeFile(path.join(appDir, "kiln.lock.json"), "{}\n");
    const def = await fs.readFile(path.join(appDir, "image.ts"), "utf8");
    await fs.writeFile(path.join(appDir, "image.ts"), def.replace("the app image", "the app image, changed"));
    // A new definition file is a new module for the loader; reload the catalog from a copy.
    const copy = await tempDir("kiln-catalog-");
    await fs.cp(root, copy, { recursive: true });
    root = copy;
    await reload();
    ctx.engine = "buildx 0.14.0";
    ctx.settings = settingsSchema.parse({ curl: { proxy: "http://proxy:3128" } });
    const app = (await assess(graph, ["app:image"], ctx)).get("app:image")!;
    expect(app.reasons).toEqual([
      "definition changed",
      "lock added",
      "Dockerfile changed",
      "engine changed (buildx 0.13.1 -> buildx 0.14.0)",
      "settings changed (secret curlrc)",
      "parent debian:image is stale",
    ]);
  });

  it("settings an image does not mount do not make it stale", async () => {
    await buildAll();
    ctx.settings = settingsSchema.parse({ curl: { proxy: "http://proxy:3128" }, registries: ["reg.example/x"] });
    const s = await statusOf();
    expect(s["debian:image"]).toBe("up-to-date");
    expect(s["app:image"]).toBe("stale: settings changed (secret curlrc)");
  });

  it("an entry built without an input record is stale", async () => {
    await fakeBuild(ctx.store, "other:image");
    expect((await statusOf())["other:image"]).toBe("stale: built without a record of its inputs");
  });
});

describe("inputAnnotations (single builds)", () => {
  it("records the inputs of a single build so that status sees it up to date", async () => {
    const { inputAnnotations } = await import("../../../src/catalog/record.ts");
    const { INPUTS_ANNOTATION } = await import("../../../src/catalog/inputs.ts");
    const { engineFingerprint } = await import("../../../src/catalog/engine.ts");
    ctx.settings = settingsSchema.parse({ store: ctx.store.dir });
    ctx.engine = await engineFingerprint(ctx.settings);
    const annotations = await inputAnnotations("debian", ctx.settings, {}, root);
    expect(Object.keys(annotations)).toEqual([INPUTS_ANNOTATION]);
    await fakeBuild(ctx.store, "debian:image");
    await ctx.store.annotate("debian:image", annotations);
    expect((await statusOf())["debian:image"]).toBe("up-to-date");
  });
});
