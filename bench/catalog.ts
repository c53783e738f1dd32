/**
 * Catalog benchmarks (see bench/README.md):
 *  (a) a no-op `kiln build --all` on an up-to-date catalog of generated
 *      definitions, as the catalog grows (default 1, 10, 25, 50 images);
 *  (b) planning: `kiln build --all --dry-run` (staleness of every target) and
 *      the catalog plan (a BuildPlan per target, what `kiln plan --all` prints);
 *  (c) with --full: the repository's catalog built cold (empty store, --no-cache)
 *      and warm (--force with the engine cache warm).
 *
 *   npx tsx bench/catalog.ts [--sizes 1,10,25,50] [--runs 3] [--full [--select "base --with-parents"]] [--skip-generated] [--json FILE]
 *
 * Generated images are tiny (FROM scratch + one file, linux/amd64) and grouped
 * five to a parent, so the graph has depth; they live in a temporary catalog,
 * store and cache, removed at the end.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { planCatalog } from "../src/catalog/plan.ts";
import { median, must, type Timing } from "./lib.ts";
import { settingsSchema } from "../src/settings/schema.ts";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "1,10,25,50" },
    runs: { type: "string", default: "3" },
    full: { type: "boolean", default: false },
    /** What the full build builds, e.g. "base --with-parents" while the rest of the catalog is not locked yet. */
    select: { type: "string", default: "--all" },
    "skip-generated": { type: "boolean", default: false },
    json: { type: "string" },
  },
});

interface Row {
  bench: string;
  images: number;
  /** Wall-clock time. */
  medianMs: number;
  minMs: number;
  /** CPU time (user + system, children included): what the work costs, less sensitive to a busy machine. */
  cpuMedianMs: number;
  runs: number;
}

const rows: Row[] = [];
const runs = Number(args.runs);

async function timed(bench: string, images: number, fn: () => Promise<Timing>): Promise<void> {
  const times: Timing[] = [];
  for (let i = 0; i < runs; i++) times.push(await fn());
  const wall = times.map((t) => t.ms);
  const row = { bench, images, medianMs: Math.round(median(wall)), minMs: Math.round(Math.min(...wall)), cpuMedianMs: Math.round(median(times.map((t) => t.cpuMs))), runs };
  rows.push(row);
  process.stderr.write(`${bench} (${images} images): median ${row.medianMs} ms, min ${row.minMs} ms, cpu ${row.cpuMedianMs} ms\n`);
}

function once(bench: string, images: number, t: Timing): void {
  rows.push({ bench, images, medianMs: Math.round(t.ms), minMs: Math.round(t.ms), cpuMedianMs: Math.round(t.cpuMs), runs: 1 });
}

/** Image i belongs to group i/5; the first of each group is the parent of the other four. */
async function generate(root: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const name = `gen-${String(i).padStart(3, "0")}`;
    const groupRoot = `gen-${String(i - (i % 5)).padStart(3, "0")}`;
    const parents = i % 5 === 0 ? {} : { parent: groupRoot };
    const dir = path.join(root, "images", name);
    await fs.mkdir(dir, { recursive: true });
    const def = { name, category: "experimental", description: `generated image ${i}`, platforms: ["linux/amd64"], parents };
    await fs.writeFile(path.join(dir, "image.ts"), `export default ${JSON.stringify(def, null, 2)};\n`);
    await fs.writeFile(path.join(dir, "Dockerfile"), `FROM ${i % 5 === 0 ? "scratch" : "parent"}\nCOPY file.txt /${name}.txt\n`);
    await fs.writeFile(path.join(dir, "file.txt"), `${name}\n`);
  }
}

async function generatedCatalog(): Promise<void> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bench-"));
  const root = path.join(tmp, "catalog");
  const config = path.join(tmp, "config.json");
  await fs.writeFile(config, "{}\n");
  const env = { KILN_CATALOG: root, KILN_STORE: path.join(tmp, "store"), KILN_CACHE_DIR: path.join(tmp, "cache"), KILN_CONFIG: config };
  const settings = settingsSchema.parse({ store: env.KILN_STORE, cacheDir: env.KILN_CACHE_DIR });
  try {
    // The floor every command pays: node, the TypeScript loader and the CLI modules.
    await timed("kiln --help (CLI start-up, for reference)", 0, () => must(["--help"], env));
    let have = 0;
    for (const size of args.sizes.split(",").map(Number)) {
      await generate(root, have, size);
      have = size;
      // Planning before the build: every target is stale or never built.
      await timed("build --all --dry-run (nothing built)", size, () => must(["build", "--all", "--dry-run", "--progress", "quiet"], env));
      const setup = await must(["build", "--all", "--jobs", "2", "--progress", "quiet"], env);
      process.stderr.write(`  (setup: built the new images in ${Math.round(setup.ms)} ms)\n`);
      await timed("no-op build --all", size, async () => {
        const r = await must(["build", "--all", "--progress", "quiet"], env);
        if (!/nothing to build/.test(r.stdout)) throw new Error(`the no-op build built something:\n${r.stdout}`);
        return r;
      });
      await timed("status --all", size, () => must(["status", "--all"], env));
      await timed("plan --all (in process: staleness + a BuildPlan per target)", size, async () => {
        const started = performance.now();
        const cpu = process.cpuUsage();
        const planned = await planCatalog({ all: true }, {}, { settings, root });
        if (planned.some((p) => !p.plan)) throw new Error(`unplanned: ${planned.find((p) => !p.plan)!.unplanned}`);
        const used = process.cpuUsage(cpu);
        return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
      });
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** (c) The repository's own catalog: cold (empty store, no engine cache) and warm (cache kept, forced rebuild). */
async function fullCatalog(): Promise<void> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bench-full-"));
  const config = path.join(tmp, "config.json");
  await fs.writeFile(config, "{}\n");
  const env = { KILN_STORE: path.join(tmp, "store"), KILN_CACHE_DIR: path.join(tmp, "cache"), KILN_CONFIG: config };
  const select = args.select.split(/\s+/).filter(Boolean);
  const what = `build ${args.select}`;
  try {
    const cold = await must(["build", ...select, "--no-cache", "--progress", "quiet", "--report", path.join(tmp, "cold.json")], env);
    const count = (JSON.parse(await fs.readFile(path.join(tmp, "cold.json"), "utf8")) as { images: unknown[] }).images.length;
    once(`${what}, cold (--no-cache, empty store)`, count, cold);
    const warm = await must(["build", ...select, "--force", "--progress", "quiet", "--report", path.join(tmp, "warm.json")], env);
    once(`${what}, warm (engine cache, --force)`, count, warm);
    const noop = await must(["build", ...select, "--progress", "quiet"], env);
    once(`${what}, no-op`, count, noop);
    process.stderr.write(await fs.readFile(path.join(tmp, "cold.json"), "utf8"));
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

const load = os.loadavg()[0]!.toFixed(1);
if (!args["skip-generated"]) await generatedCatalog();
if (args.full) await fullCatalog();
const table = [
  "| bench | images | wall median | wall min | CPU median | runs |",
  "|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.bench} | ${r.images} | ${(r.medianMs / 1000).toFixed(2)} s | ${(r.minMs / 1000).toFixed(2)} s | ${(r.cpuMedianMs / 1000).toFixed(2)} s | ${r.runs} |`),
].join("\n");
process.stdout.write(`${table}\n\n${os.cpus().length} cores, load average ${load} at the start, ${new Date().toISOString()}\n`);
if (args.json) await fs.writeFile(args.json, JSON.stringify({ loadAverage: Number(load), rows }, null, 2) + "\n");
