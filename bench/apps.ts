/**
 * App image benchmarks (see bench/README.md): per app image of the catalog
 * (a definition whose Debian packages are locked on top of a parent),
 *  - cold build time (`--no-cache --force`: every step again, inputs cached)
 *    and warm build time (`--force` with the engine cache kept);
 *  - compressed and uncompressed size per platform;
 *  - against the Installed-Size of the Debian packages its manifest says it
 *    unpacked (`usr/share/kiln/packages/*.tsv` in the image, each .deb read
 *    from kiln's download cache by the sha256 the lock pinned);
 * and the no-op `kiln build --all` of the whole catalog once everything is built.
 *
 *   npx tsx bench/apps.ts [--images registry,dns] [--runs 3] [--json FILE]
 *   npx tsx bench/apps.ts --recorded [--images ...] [--json FILE]
 *
 * --recorded builds nothing: each app's first and last build records in the
 * store's history (kiln-state/history) give the build times, the last one the
 * sizes. Pointed at the store of a run that started from an empty engine (the
 * end-to-end tier in CI, KILN_E2E_FAMILY_DIR), the first record is a cold build.
 *
 * Uses the site's store and cache (KILN_STORE, KILN_CACHE_DIR): build the
 * parents first (`kiln build --all`); their build is not measured.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { formatBytes } from "../src/catalog/sizes.ts";
import { loadBuilds } from "../src/catalog/history.ts";
import { CatalogState } from "../src/catalog/state.ts";
import { loadCatalog } from "../src/definition/catalog.ts";
import { cacheDir, storeDir } from "../src/paths.ts";
import { readImage } from "../test/e2e/base-family.ts";
import { median, must } from "./lib.ts";

const exec = promisify(execFile);

const { values: args } = parseArgs({
  options: {
    images: { type: "string" },
    runs: { type: "string", default: "3" },
    json: { type: "string" },
    recorded: { type: "boolean", default: false },
  },
});

interface PlatformFigures {
  platform: string;
  compressedBytes: number;
  uncompressedBytes: number;
  packages: number;
  installedBytes: number;
}

interface AppFigures {
  ref: string;
  coldMs: number;
  warmMs: number;
  platforms: PlatformFigures[];
}

interface ReportJson {
  images: { ref: string; digest?: string; platforms: { platform: string; compressedBytes: number; uncompressedBytes: number }[] }[];
}

const catalog = await loadCatalog();
const apps = [...catalog.images.values()]
  .filter((i) => i.def.inputs.debian?.onTopOf !== undefined)
  .map((i) => i.name)
  .filter((name) => !args.images || args.images.split(",").includes(name));
if (!apps.length) throw new Error("no app image selected");
const storePath = storeDir({ store: process.env.KILN_STORE });
const debs = path.join(cacheDir({ cacheDir: process.env.KILN_CACHE_DIR }), "blobs", "sha256");
const work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bench-apps-"));

/** Installed-Size (KiB in the control file) of each package the manifests list, summed. */
async function installedOf(ref: string, digest: string, platform: string): Promise<{ packages: number; bytes: number }> {
  const img = await readImage({ KILN_STORE: storePath }, digest, platform);
  const manifests = [...img.files.keys()].filter((f) => /^usr\/share\/kiln\/packages\/[^/]+\.tsv$/.test(f));
  if (!manifests.length) throw new Error(`${ref} ${platform}: no package manifest in the image`);
  let packages = 0;
  let kib = 0;
  for (const file of manifests) {
    for (const line of (await img.read(file))!.toString("utf8").split("\n")) {
      if (!line || line.startsWith("#")) continue;
      const sha = line.split("\t")[3]!;
      const { stdout } = await exec("dpkg-deb", ["-f", path.join(debs, sha), "Installed-Size"]);
      kib += Number(stdout.trim());
      packages++;
    }
  }
  return { packages, bytes: kib * 1024 };
}

/** Sizes per platform (from a report or a record) beside the installed size of the image's packages. */
async function platformFigures(ref: string, digest: string, sizes: { platform: string; compressedBytes: number; uncompressedBytes: number }[]): Promise<PlatformFigures[]> {
  const out: PlatformFigures[] = [];
  for (const p of sizes) {
    const installed = await installedOf(ref, digest, p.platform);
    out.push({ platform: p.platform, compressedBytes: p.compressedBytes, uncompressedBytes: p.uncompressedBytes, packages: installed.packages, installedBytes: installed.bytes });
  }
  return out;
}

async function build(ref: string, extra: string[]): Promise<{ ms: number; report: ReportJson["images"][number] }> {
  const file = path.join(work, "report.json");
  const t = await must(["build", ref, "--force", "--progress", "quiet", "--report", file, ...extra], {});
  const report = (JSON.parse(await fs.readFile(file, "utf8")) as ReportJson).images.find((i) => i.ref === ref || i.ref.startsWith(`${ref}:`));
  if (!report?.digest) throw new Error(`the report of kiln build ${ref} has no digest for it`);
  return { ms: t.ms, report };
}

const figures: AppFigures[] = [];
try {
  const noop: number[] = [];
  if (args.recorded) {
    const state = CatalogState.forStore(storePath);
    for (const ref of apps) {
      const records = await loadBuilds(state, `${ref}:image`);
      if (!records.length) throw new Error(`${ref}: no build recorded in ${state.dir}`);
      const first = records[0]!;
      const last = records.at(-1)!;
      figures.push({ ref, coldMs: first.durationMs ?? NaN, warmMs: last.durationMs ?? NaN, platforms: await platformFigures(ref, last.digest, last.platforms) });
    }
  } else {
    for (const ref of apps) {
      const cold: number[] = [];
      const warm: number[] = [];
      let last: ReportJson["images"][number] | undefined;
      for (let i = 0; i < Number(args.runs); i++) {
        cold.push((await build(ref, ["--no-cache"])).ms);
        const w = await build(ref, []);
        warm.push(w.ms);
        last = w.report;
      }
      figures.push({ ref, coldMs: Math.round(median(cold)), warmMs: Math.round(median(warm)), platforms: await platformFigures(ref, last!.digest!, last!.platforms) });
      process.stderr.write(`${ref}: cold ${(median(cold) / 1000).toFixed(1)} s, warm ${(median(warm) / 1000).toFixed(1)} s\n`);
    }
    for (let i = 0; i < Number(args.runs); i++) noop.push((await must(["build", "--all", "--progress", "quiet"], {})).ms);
  }

  const both = (f: AppFigures, pick: (p: PlatformFigures) => string) => f.platforms.map(pick).join(" / ");
  const table = [
    `| image | ${args.recorded ? "first build | last build" : "cold | warm"} | compressed amd64 / arm64 | uncompressed amd64 / arm64 | packages unpacked: Installed-Size amd64 / arm64 |`,
    "|---|---|---|---|---|---|",
    ...figures.map(
      (f) =>
        `| ${f.ref} | ${(f.coldMs / 1000).toFixed(1)} s | ${(f.warmMs / 1000).toFixed(1)} s | ${both(f, (p) => formatBytes(p.compressedBytes))} | ${both(f, (p) => formatBytes(p.uncompressedBytes))} | ${f.platforms[0]!.packages} packages: ${both(f, (p) => formatBytes(p.installedBytes))} |`,
    ),
  ].join("\n");
  const load = os.loadavg()[0]!.toFixed(1);
  const noopLine = noop.length ? `no-op build --all (${catalog.images.size} images): median ${(median(noop) / 1000).toFixed(2)} s of ${noop.length}\n` : "";
  const times = args.recorded ? "build times from the store's records: the first build of each image, and the last\n" : "";
  process.stdout.write(`${table}\n\n${times}${noopLine}${os.cpus().length} cores, load average ${load} at the end, ${new Date().toISOString()}\n`);
  if (args.json) await fs.writeFile(args.json, JSON.stringify({ loadAverage: Number(load), noopBuildAllMs: noop.map(Math.round), images: figures }, null, 2) + "\n");
} finally {
  await fs.rm(work, { recursive: true, force: true });
}
