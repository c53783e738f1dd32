/**
 * Building many images: the selection (`--all`, `--category`, an image
 * `--with-parents`) in dependency order, independent images side by side up
 * to `jobs`, each rebuilt only when its inputs changed (or `force`). Parents
 * reach children by digest from the store: buildImage resolves them there,
 * the scheduler only makes sure they are built first.
 */
import { buildImage, publishStored, type BuildOptions } from "../build/build.ts";
import { loadCatalog } from "../definition/catalog.ts";
import { detectEngine } from "../engine/detect.ts";
import { diskFullError, KilnError } from "../errors.ts";
import { OciStore } from "../oci/store.ts";
import { catalogRoot, storeDir } from "../paths.ts";
import type { Settings } from "../settings/schema.ts";
import { fingerprintOf } from "./engine.ts";
import { buildGraph, selectNodes, type CatalogGraph, type Selection } from "./graph.ts";
import { recordBuildQuietly } from "./history.ts";
import { INPUTS_ANNOTATION } from "./inputs.ts";
import { describeRun, reportEntry, writeReport, type CatalogReport, type ReportEntry } from "./report.ts";
import { pinParents } from "./parent-pins.ts";
import { schedule } from "./schedule.ts";
import { checkNode, platformsOf, recordInputs, storeEntries, type StalenessContext } from "./staleness.ts";
import { CatalogState } from "./state.ts";
import { partOf } from "../util/words.ts";

export const DEFAULT_JOBS = 2;

export interface CatalogBuildOptions {
  /** Images built at the same time (default 2). */
  jobs?: number;
  /** Rebuild even when up to date. */
  force?: boolean;
  /** Write the run report as JSON to this file. */
  report?: string;
  /** Decide and report what would be built; build nothing. */
  dryRun?: boolean;
  /** Stop starting images after the first failure (default: go on with independent ones). */
  failFast?: boolean;
  /** Passed to every buildImage call (platforms, push, load, noCache, cache, progress...). */
  request?: Omit<BuildOptions, "ref" | "annotations" | "dryRun">;
}

export interface CatalogBuildContext {
  settings: Settings;
  /** Repository root holding `images/` (default: this checkout). */
  root?: string;
  /** Progress lines and build output (default stderr). */
  out?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** The summary table (default stdout). */
  stdout?: NodeJS.WritableStream;
  /** Stand-in for buildImage (tests of the scheduling logic). */
  build?: typeof buildImage;
  /** Stand-in for publishStored. */
  publish?: typeof publishStored;
}

/**
 * Builds the selected images and prints a summary; returns the run report.
 * Graph problems (cycles, unknown parents) throw before anything builds;
 * image failures throw a KilnError after the report is printed and written.
 */
export async function buildCatalog(selection: Selection, opts: CatalogBuildOptions, ctx: CatalogBuildContext): Promise<CatalogReport> {
  const started = Date.now();
  const root = ctx.root ?? catalogRoot();
  const out = ctx.out ?? process.stderr;
  // Engine probes take a while (longer when the engine is busy): they run while the catalog loads.
  const engine = detectEngine(ctx.settings, { out });
  engine.catch(() => undefined);
  const { graph, refs } = await loadSelection(selection, root);
  const store = await OciStore.open(storeDir(ctx.settings));
  const state = CatalogState.forStore(store.dir);
  const found = await engine;
  const staleness: StalenessContext = { store, state, settings: ctx.settings, engine: fingerprintOf(found), platforms: opts.request?.platforms, buildArgs: opts.request?.buildArgs };
  // No engine: say so once, before anything starts, rather than once per image (or after waiting again).
  if (!found.usable && !opts.dryRun && !ctx.build) throw new KilnError(found.problem ?? "no usable BuildKit engine", found.hint);
  const jobs = Math.max(1, opts.jobs ?? DEFAULT_JOBS);
  const build = ctx.build ?? buildImage;
  let n = 0;
  const pinned = new Map<string, Promise<void>>();
  const say = (line: string) => out.write(`[${++n}/${refs.length}] ${line}\n`);

  const outcomes = await schedule<ReportEntry>({
    refs,
    parentsOf: (r) => Object.values(graph.nodes.get(r)!.parents),
    jobs,
    failFast: opts.failFast,
    run: async (ref) => {
      const node = graph.nodes.get(ref)!;
      const platforms = platformsOf(node, opts.request?.platforms);
      if (platforms.length === 0) {
        say(`${ref}: skipped, not built for ${opts.request!.platforms!.join(", ")}`);
        return { ref, action: "skipped", reasons: [`not built for ${opts.request!.platforms!.join(", ")}`], platforms: [] };
      }
      const entries = await storeEntries(store);
      // The targets of one image share its lock (and its parents): pin once per image and run.
      if (!pinned.has(node.image.name)) {
        const digests = Object.fromEntries(Object.entries(node.parents).map(([name, r]) => [name, entries.get(r)?.digest]));
        pinned.set(node.image.name, pinParents(node.image, digests, ctx.settings, opts.dryRun).then((names) => {
          if (names.length) out.write(`${node.image.name}: ${opts.dryRun ? "would pin" : "pinned"} parent${names.length > 1 ? "s" : ""} ${names.join(", ")} in its lock at the store's digest\n`);
        }));
      }
      await pinned.get(node.image.name);
      const fresh = await checkNode(node, staleness, entries);
      if (fresh.status === "up-to-date" && !opts.force) {
        // Asked to push or load: an image that needs no build is still published (a retry after a failed push).
        if ((opts.request?.push || opts.request?.load) && !opts.dryRun) {
          const published = await (ctx.publish ?? publishStored)({ ...opts.request, ref, platforms }, { settings: ctx.settings, root, out });
          say(`${ref}: up to date${describePublished(published)}`);
          return reportEntry(store, state, { ref, action: "up-to-date", reasons: [], digest: fresh.digest, pushed: published.pushed, loaded: published.loaded });
        }
        say(`${ref}: up to date`);
        return reportEntry(store, state, { ref, action: "up-to-date", reasons: [], digest: fresh.digest });
      }
      const reasons = opts.force && fresh.status === "up-to-date" ? ["forced"] : fresh.reasons;
      if (opts.dryRun) {
        say(`${ref}: would build (${reasons.join("; ")})`);
        return { ref, action: "would-build", reasons, platforms: [] };
      }
      say(`${ref}: building (${reasons.join("; ")})`);
      const hash = await state.saveInputs(fresh.inputs);
      const result = await build(
        { ...opts.request, ref, platforms, progress: progressFor(opts.request?.progress, jobs), annotations: { [INPUTS_ANNOTATION]: hash } },
        { settings: ctx.settings, root, out },
      );
      // Recorded here too, so the record holds whatever buildImage does with annotations.
      await recordInputs(store, state, ref, fresh.inputs);
      const published = { ...(result.pushed.length ? { pushed: result.pushed } : {}), ...(result.loaded.length ? { loaded: result.loaded } : {}) };
      const entry = await reportEntry(store, state, { ref, action: "built", reasons, digest: result.digest, durationMs: result.durationMs, steps: result.steps, ...published });
      await recordBuildQuietly(store, state, { ref, digest: result.digest, durationMs: result.durationMs, imageDir: node.image.dir, platforms: entry.platforms });
      return entry;
    },
  });

  const report: CatalogReport = {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    jobs,
    force: !!opts.force,
    engine: staleness.engine,
    store: store.dir,
    images: outcomes.map((o) => {
      if (o.status === "done") return o.value;
      if (o.status === "failed") {
        const error = diskFullError(o.error) ?? o.error;
        if (!(error instanceof KilnError)) out.write(`${o.ref}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        return { ref: o.ref, action: "failed", reasons: [], error: errorLine(error), platforms: [] };
      }
      return { ref: o.ref, action: "blocked", reasons: [`${o.by} failed`], platforms: [] };
    }),
  };
  if (opts.report) await writeReport(opts.report, report);
  (ctx.stdout ?? process.stdout).write(describeRun(report));
  const failed = report.images.filter((i) => i.action === "failed" || i.action === "blocked");
  if (failed.length) {
    const first = report.images.find((i) => i.action === "failed");
    throw new KilnError(`${partOf(failed.length, refs.length, "image")} not built: ${failed.map((f) => f.ref).join(", ")}${first?.error ? ` (${first.ref}: ${first.error})` : ""}`);
  }
  return report;
}

/** The graph and the selected refs: what `kiln status` and planning need, without building. */
export async function loadSelection(selection: Selection, root = catalogRoot()): Promise<{ graph: CatalogGraph; refs: string[] }> {
  const catalog = await loadCatalog(root);
  const graph = buildGraph(catalog);
  const refs = selectNodes(graph, catalog, selection);
  if (refs.length === 0) throw new KilnError(`no image matches ${describeSelection(selection)}`, "`kiln ls` lists the catalog");
  return { graph, refs };
}

/** A live (tty) display redraws its lines: two builds at once would garble each other's, so they print plain lines. */
function progressFor(mode: BuildOptions["progress"], jobs: number): BuildOptions["progress"] {
  if (jobs > 1 && (mode === undefined || mode === "auto" || mode === "tty")) return "plain";
  return mode ?? "auto";
}

function describeSelection(s: Selection): string {
  if (s.category) return `category ${s.category}`;
  if (s.refs?.length) return s.refs.join(", ");
  return "the selection (the catalog is empty)";
}

function describePublished(p: { loaded: string[]; pushed: { ref: string }[] }): string {
  const parts = [...(p.loaded.length ? [`loaded ${p.loaded.join(", ")}`] : []), ...(p.pushed.length ? [`pushed ${p.pushed.map((x) => x.ref).join(", ")}`] : [])];
  return parts.length ? `, ${parts.join(", ")}` : "";
}

function errorLine(e: unknown): string {
  if (e instanceof KilnError) return e.toLine();
  return e instanceof Error ? e.message.split("\n")[0]! : String(e);
}
