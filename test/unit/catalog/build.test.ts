import fs from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { BuildOptions, BuildResult } from "../../../src/build/build.ts";
import { buildCatalog } from "../../../src/catalog/build.ts";
import { OciStore } from "../../../src/oci/store.ts";
import { settingsSchema, type Settings } from "../../../src/settings/schema.ts";
import { writeCatalog } from "./fixture.ts";
import { fakeBuild } from "./store-fixture.ts";
import { tempDir } from "../../support/temp-dir.ts";

// The real build needs an engine; these tests drive the scheduling and staleness logic through `ctx.build`.
vi.mock("../../../src/build/build.ts", () => ({ buildImage: () => Promise.reject(new Error("not in unit tests")) }));
vi.mock("../../../src/engine/detect.ts", () => ({
  detectEngine: async () => ({ usable: true, driver: "buildx", clients: { buildx: "0.13.1" }, engine: { version: "26.1.5" } }),
}));

let root: string;
let settings: Settings;
let built: string[];
let failing: Set<string>;

/** Stands in for buildImage: records the call and stores a distinct tiny image. */
async function build(req: BuildOptions, ctx: { settings: Settings }): Promise<BuildResult> {
  built.push(req.ref);
  if (failing.has(req.ref)) throw new Error(`engine said no to ${req.ref}`);
  const store = await OciStore.open(ctx.settings.store!);
  const digest = await fakeBuild(store, req.ref, String(Date.now() + Math.random()));
  return { ref: req.ref, digest, durationMs: 5, steps: { total: 3, cached: 1 }, pushed: req.push ? [{ ref: `reg/${req.ref}`, digest }] : [], loaded: [] } as unknown as BuildResult;
}

let published: string[];

/** Stands in for publishStored: a push of what the store holds. */
async function publish(req: BuildOptions, ctx: { settings: Settings }) {
  published.push(req.ref);
  const digest = (await (await OciStore.open(ctx.settings.store!)).require(req.ref)).digest;
  return { digest, loaded: [], pushed: [{ ref: `reg/${req.ref}`, digest }] };
}

async function run(selection: Parameters<typeof buildCatalog>[0], opts: Parameters<typeof buildCatalog>[1] = {}) {
  built = [];
  const out = new PassThrough();
  const stdout = new PassThrough();
  const chunks: string[] = [];
  stdout.on("data", (c: Buffer) => chunks.push(c.toString()));
  const report = await buildCatalog(selection, opts, { settings, root, build, publish, out, stdout });
  return { report, built, table: chunks.join("") };
}

beforeEach(async () => {
  root = await writeCatalog({
    debian: { files: { "a.txt": "one\n" } },
    base: { def: { parents: { debian: "debian" }, targets: { builder: {}, runtime: {} } } },
    app: { def: { category: "tooling", parents: { base: "base:runtime" } } },
    other: { def: { category: "experimental" } },
  });
  const tmp = await tempDir("kiln-store-");
  settings = settingsSchema.parse({ store: path.join(tmp, "store") });
  failing = new Set();
  published = [];
});

describe("buildCatalog", () => {
  it("builds everything in order, then nothing, and says so", async () => {
    const first = await run({ all: true });
    expect([...first.built].sort()).toEqual(["app:image", "base:builder", "base:runtime", "debian:image", "other:image"]);
    expect(first.built.indexOf("debian:image")).toBeLessThan(first.built.indexOf("base:runtime"));
    expect(first.built.indexOf("base:runtime")).toBeLessThan(first.built.indexOf("app:image"));
    expect(first.built).toHaveLength(5);
    expect(first.report.images.every((i) => i.action === "built")).toBe(true);
    expect(first.table).toMatch(/^app:image\s+linux\/amd64\s+built \(1\/3 cached\)\s+[0-9a-f]{12}\s+0 B\s+0 B\s+0\s+0\.0s/m);

    const second = await run({ all: true });
    expect(second.built).toEqual([]);
    expect(second.table).toMatch(/nothing to build: all 5 images are up to date/);
  });

  it("rebuilds a changed image and exactly its descendants", async () => {
    await run({ all: true });
    await fs.writeFile(path.join(root, "images/debian/a.txt"), "two\n");
    const { built, report } = await run({ all: true });
    expect(built.sort()).toEqual(["app:image", "base:builder", "base:runtime", "debian:image"]);
    expect(report.images.find((i) => i.ref === "debian:image")!.reasons).toEqual(["context file a.txt"]);
    expect(report.images.find((i) => i.ref === "base:runtime")!.reasons[0]).toMatch(/^parent debian digest changed/);
    expect(report.images.find((i) => i.ref === "other:image")!.action).toBe("up-to-date");
    // The children's locks pin the parent they were built on.
    const lock = JSON.parse(await fs.readFile(path.join(root, "images/base/kiln.lock.json"), "utf8"));
    expect(lock.parents.debian).toMatchObject({ ref: "debian", index: report.images.find((i) => i.ref === "debian:image")!.digest });
  });

  it("--force rebuilds up-to-date images; --category and --with-parents select", async () => {
    await run({ all: true });
    expect((await run({ refs: ["app"], withParents: true }, { force: true })).built).toEqual(["debian:image", "base:runtime", "app:image"]);
    expect((await run({ category: "experimental" }, { force: true })).built).toEqual(["other:image"]);
  });

  it("a failed image blocks its descendants, the rest is built, the report is written, then it throws", async () => {
    failing.add("base:runtime");
    const reportFile = path.join(root, "out", "report.json");
    await expect(run({ all: true }, { report: reportFile })).rejects.toThrow(
      "2 of 5 images not built: base:runtime, app:image (base:runtime: engine said no to base:runtime)",
    );
    const report = JSON.parse(await fs.readFile(reportFile, "utf8"));
    const actions = Object.fromEntries(report.images.map((i: { ref: string; action: string }) => [i.ref, i.action]));
    expect(actions).toEqual({ "debian:image": "built", "other:image": "built", "base:builder": "built", "base:runtime": "failed", "app:image": "blocked" });
    expect(report.images[0].platforms[0]).toMatchObject({ platform: "linux/amd64", layers: 0, compressedBytes: 0 });
  });

  it("a graph error stops everything before any build", async () => {
    const bad = await writeCatalog({ a: { def: { parents: { b: "b" } } }, b: { def: { parents: { a: "a" } } }, c: {} });
    built = [];
    await expect(buildCatalog({ all: true }, {}, { settings, root: bad, build, out: new PassThrough(), stdout: new PassThrough() })).rejects.toThrow("cycle: a -> b -> a");
    expect(built).toEqual([]);
  });

  it("with --push, pushes what it builds and what it finds up to date, and reports both", async () => {
    await run({ refs: ["debian"] });
    await fs.writeFile(path.join(root, "images/other/a.txt"), "changed\n");
    const { built, report } = await run({ refs: ["debian", "other"] }, { request: { push: true } });
    expect(built).toEqual(["other:image"]);
    expect(published).toEqual(["debian:image"]);
    for (const ref of ["debian:image", "other:image"]) {
      const entry = report.images.find((i) => i.ref === ref)!;
      expect(entry.pushed).toEqual([{ ref: `reg/${ref}`, digest: entry.digest }]);
    }
    expect(report.images.find((i) => i.ref === "debian:image")!.action).toBe("up-to-date");
  });

  it("a dry run decides without building", async () => {
    const { built, report } = await run({ all: true }, { dryRun: true });
    expect(built).toEqual([]);
    expect(report.images.map((i) => i.action)).toEqual(Array(5).fill("would-build"));
  });
});
