/**
 * Supply-chain benchmarks (see bench/README.md):
 *  - SBOM generation per catalog image in the store: both formats for every
 *    platform, in process (what every build adds before it attaches them);
 *  - attach + push of one image: its SBOMs attached in a scratch store, then
 *    pushed to a registry with and without its attachments (the difference is
 *    what the referrers cost: oras and the sha256-<hex> fallback tag);
 *  - with --rebuild, `kiln rebuild` of that pushed image from a clone of the
 *    catalog (after the `kiln build --push` that gives it a clean revision);
 *  - `kiln outdated --all` over the catalog, cold (empty download cache) and warm.
 *
 *   npx tsx bench/supply-chain.ts [--image router] [--registry 127.0.0.1:5000] [--rebuild] [--runs 3] [--json FILE]
 *
 * Reads the site's store and catalog (KILN_STORE, KILN_CATALOG): build the
 * images first; nothing is written into that store but what a build of the
 * same image would attach anyway (with --rebuild, that build's lock and SBOMs).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { attachBuildSboms } from "../src/build/attachments.ts";
import { loadCatalog } from "../src/definition/catalog.ts";
import { pushImage } from "../src/oci/publish.ts";
import { OciStore } from "../src/oci/store.ts";
import { catalogRoot, storeDir } from "../src/paths.ts";
import { sbomDocuments } from "../src/sbom/index.ts";
import { loadSettings } from "../src/settings/load.ts";
import { median, must } from "./lib.ts";

const { values: args } = parseArgs({
  options: {
    image: { type: "string", default: "router" },
    registry: { type: "string", default: "127.0.0.1:5000" },
    rebuild: { type: "boolean", default: false },
    runs: { type: "string", default: "3" },
    json: { type: "string" },
  },
});
const runs = Number(args.runs);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

const settings = await loadSettings({});
const store = await OciStore.open(storeDir(settings));
const root = catalogRoot();
const figures: Record<string, unknown> = { date: new Date().toISOString().slice(0, 10), load: os.loadavg()[0] };

// SBOMs: every catalog target the store holds, both formats, every platform it holds.
const sboms: { ref: string; platforms: number; ms: number; bytes: number }[] = [];
const catalog = await loadCatalog(root);
for (const image of catalog.images.values()) {
  for (const target of Object.keys(image.def.targets)) {
    const ref = `${image.name}:${target}`;
    const stored = await store.resolve(ref);
    if (!stored) continue;
    const times: number[] = [];
    let bytes = 0;
    try {
      for (let i = 0; i < runs; i++) {
        const { ms, value } = await timed(() => sbomDocuments(store, ref, stored.digest, root));
        times.push(ms);
        bytes = value.reduce((n, d) => n + d.bytes.length, 0);
      }
    } catch (e) {
      // An image stored from other locks than the catalog's now: no SBOM until it is rebuilt.
      console.log(`  ${ref}: skipped (${(e as Error).message.slice(0, 160)})`);
      continue;
    }
    sboms.push({ ref, platforms: Object.keys(stored.manifests).length, ms: median(times), bytes });
  }
}
figures.sboms = sboms;
console.log("SBOMs (both formats, every stored platform), median of", runs);
for (const s of sboms) console.log(`  ${s.ref.padEnd(16)} ${String(s.platforms)} platform(s)  ${seconds(s.ms).padStart(7)}  ${(s.bytes / 1024).toFixed(0)} KiB`);

// Attach + push: one image copied into a scratch store, attached there, pushed with and without its attachments.
const image = catalog.images.get(args.image);
if (!image) throw new Error(`no image ${args.image} in the catalog`);
const ref = `${image.name}:${Object.keys(image.def.targets)[0]}`;
const source = await store.require(ref);
const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bench-supply-"));
try {
  const copy = async (name: string) => {
    const layout = path.join(scratch, `${name}-layout`);
    await store.exportLayout(source.digest, layout);
    const s = await OciStore.open(path.join(scratch, name));
    await s.importLayout(layout, ref);
    return s;
  };
  const bare = await copy("bare");
  const attachedStore = await copy("attached");
  const attach = await timed(() => attachBuildSboms(attachedStore, source.digest, { image: image.name, target: ref.split(":")[1]! }, root));
  const repo = `${args.registry}/kiln-bench-${process.pid}`;
  const plain = await timed(() => pushImage(bare, source.digest, [`${repo}/plain/${image.name}:b`], settings));
  const withReferrers = await timed(() => pushImage(attachedStore, source.digest, [`${repo}/attached/${image.name}:b`], settings));
  figures.attachPush = { ref, attachMs: attach.ms, attached: attach.value.length, pushMs: plain.ms, pushWithReferrersMs: withReferrers.ms };
  console.log(`attach ${attach.value.length} SBOMs to ${ref}: ${seconds(attach.ms)}; push without attachments ${seconds(plain.ms)}, with them ${seconds(withReferrers.ms)}`);
} finally {
  await fs.rm(scratch, { recursive: true, force: true });
}

// Rebuild: a clean revision in a clone of the catalog, built and pushed with kiln, then rebuilt from the registry.
if (args.rebuild) {
  const clone = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bench-catalog-"));
  try {
    const when = "2025-01-01T00:00:00Z";
    const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "kiln", GIT_AUTHOR_EMAIL: "kiln@localhost", GIT_COMMITTER_NAME: "kiln", GIT_COMMITTER_EMAIL: "kiln@localhost", GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when };
    const git = (a: string[]) => execFileSync("git", a, { cwd: clone, env: gitEnv, encoding: "utf8" });
    git(["clone", "-q", root, "."]);
    if (!(await fs.stat(path.join(clone, "src")).catch(() => undefined))) await fs.symlink(path.join(root, "src"), path.join(clone, "src"));
    const env = { KILN_CATALOG: clone };
    await must(["refresh", image.name, "--only", "image"], env);
    if (git(["status", "--porcelain", "images"]).trim()) git(["commit", "-q", "-am", "pin parents"]);
    const pushed = await must(["build", image.name, "--push", "--registry", `${args.registry}/kiln-bench-${process.pid}`, "--json", "--progress", "quiet"], env);
    const digest = (JSON.parse(pushed.stdout) as { digest: string }).digest;
    const rebuilt = await must(["rebuild", `${args.registry}/kiln-bench-${process.pid}/kiln/${image.name}@${digest}`, "--catalog", clone], {});
    figures.rebuild = { buildPushMs: pushed.ms, rebuildMs: rebuilt.ms, rebuildCpuMs: rebuilt.cpuMs };
    console.log(`kiln build ${image.name} --push: ${seconds(pushed.ms)}; kiln rebuild: ${seconds(rebuilt.ms)} (${seconds(rebuilt.cpuMs)} CPU)`);
  } finally {
    await fs.rm(clone, { recursive: true, force: true });
  }
}

// Outdated: the whole catalog against the current signed indices, from an empty cache, then warm.
const cache = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bench-outdated-"));
try {
  const env = { KILN_CACHE_DIR: cache };
  const cold = await must(["outdated", "--all"], env);
  const warm: number[] = [];
  const warmCpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await must(["outdated", "--all"], env);
    warm.push(r.ms);
    warmCpu.push(r.cpuMs);
  }
  figures.outdated = { coldMs: cold.ms, coldCpuMs: cold.cpuMs, warmMs: median(warm), warmCpuMs: median(warmCpu), summary: cold.stdout };
  console.log(`kiln outdated --all: cold ${seconds(cold.ms)} (${seconds(cold.cpuMs)} CPU), warm ${seconds(median(warm))} (${seconds(median(warmCpu))} CPU)`);
} finally {
  await fs.rm(cache, { recursive: true, force: true });
}

if (args.json) await fs.writeFile(args.json, JSON.stringify(figures, null, 2) + "\n");
