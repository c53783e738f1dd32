/**
 * One image target, end to end: plan, prepare locked inputs, run the engine
 * with site secrets, import the OCI export into the store, then publish
 * exactly those bytes (load, push, extra outputs).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { loadImage, type LoadedImage } from "../definition/catalog.ts";
import type { Platform } from "../definition/schema.ts";
import { renderBuildctl } from "../engine/buildctl.ts";
import { renderBuildx } from "../engine/buildx.ts";
import { substitute } from "../engine/common.ts";
import { requireEngine } from "../engine/detect.ts";
import { createProgress, type ProgressMode } from "../engine/progress.ts";
import { lostEngine, runEngineCommand } from "../engine/run.ts";
import { KilnError } from "../errors.ts";
import { catalogRevision, gitMetadata, metadataBuildArgs, metadataLabels } from "../git/metadata.ts";
import { lockPathOf, readLock } from "../lock/io.ts";
import { lockBuildArgs } from "../lock/build-args.ts";
import { prepareInputs } from "../lock/prepare.ts";
import { storeRefOf } from "../lock/resolve.ts";
import type { Lock } from "../lock/schema.ts";
import { loadImage as loadIntoDocker, pushImage } from "../oci/publish.ts";
import { OciStore } from "../oci/store.ts";
import { removeEngineMarks } from "../oci/engine-marks.ts";
import { cacheDir, catalogRoot, storeDir } from "../paths.ts";
import { makePlan, splitRef, type BuildRequest } from "../plan/plan.ts";
import { EXPORT_DIR, SECRETS_DIR, WORK_DIR, type BuildPlan, type EngineTarget } from "../plan/types.ts";
import { withSecretsDir } from "../settings/secrets.ts";
import type { Settings } from "../settings/schema.ts";
import { withTempDir } from "../util/temp.ts";
import { mergeLayouts, planPerPlatform } from "./per-node.ts";
import { attachBuildLock, attachBuildSboms, PLATFORM_ANNOTATION, type BuildRecord } from "./attachments.ts";
import { withOutput, writeStoreOutputs } from "./outputs.ts";

export type { BuildRequest } from "../plan/plan.ts";

export interface BuildOptions extends BuildRequest {
  progress?: ProgressMode;
  dryRun?: boolean;
  /**
   * Extra annotations recorded on the store entry (e.g. the catalog's input hash);
   * a function is called once the image and its plan are known to be valid.
   */
  annotations?: Record<string, string> | (() => Promise<Record<string, string>>);
}

export interface BuildContext {
  settings: Settings;
  /** Repository root holding `images/` (default: this checkout). */
  root?: string;
  /** Where progress goes (default stderr). */
  out?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface BuildResult {
  ref: string;
  image: string;
  target: string;
  /** Top (index) digest in the store; empty on a dry run. */
  digest: string;
  /** platform -> manifest digest */
  manifests: Record<string, string>;
  durationMs: number;
  pushed: { ref: string; digest: string }[];
  loaded: string[];
  plan: BuildPlan;
  argv: string[];
  steps?: { total: number; cached: number };
  /** What the build attached to the image in the store (lock, SBOMs): the referrers' digests and types. */
  attached?: { digest: string; artifactType: string; platform?: string }[];
}

/** Everything up to the plan: no engine, no writes. Used by `kiln plan` and by builds. */
export async function planBuild(req: BuildRequest, ctx: BuildContext): Promise<{ image: LoadedImage; lock?: Lock; plan: BuildPlan; store: OciStore }> {
  const root = ctx.root ?? catalogRoot();
  const image = await loadImage(splitRef(req.ref).image, root);
  const lock = await readLock(image.dir);
  const store = await OciStore.open(storeDir(ctx.settings));
  const parentDigests = await parentDigestsOf(image, lock, store);
  const meta = await gitMetadata(image.dir, root);
  const plan = makePlan({
    image,
    request: req,
    settings: ctx.settings,
    lock,
    storeDir: store.dir,
    parentDigests,
    parentsEpoch: await parentsEpochOf(parentDigests, store),
    labels: metadataLabels(meta, image.def),
    extraBuildArgs: { ...metadataBuildArgs(meta), ...lockBuildArgs(lock) },
  });
  return { image, lock, plan, store };
}

/**
 * The latest creation time (seconds) among the parents' platforms. A child is never dated before
 * its parents: an older BuildKit's rewrite-timestamp re-stamps the parent's layers to the child's
 * date, a newer one keeps them, and only when no parent file is newer than the child's date do both
 * write the same bytes.
 */
async function parentsEpochOf(parentDigests: Record<string, string>, store: OciStore): Promise<number | undefined> {
  let latest: number | undefined;
  for (const digest of Object.values(parentDigests)) {
    const index = await store.readJson<{ manifests?: { digest: string }[] }>(digest);
    for (const m of index.manifests ?? []) {
      const manifest = await store.readJson<{ config?: { digest: string } }>(m.digest);
      if (!manifest.config) continue; // an attached artifact, not a platform image
      const config = await store.readJson<{ created?: string }>(manifest.config.digest);
      const t = config.created ? Math.floor(Date.parse(config.created) / 1000) : NaN;
      if (!Number.isNaN(t)) latest = Math.max(latest ?? t, t);
    }
  }
  return latest;
}

/**
 * Parents by digest: the lock's pin when there is one (a build consumes only
 * locked inputs), else what the store holds now (an image not locked yet,
 * which input preparation then refuses with the fix).
 */
async function parentDigestsOf(image: LoadedImage, lock: Lock | undefined, store: OciStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, ref] of Object.entries(image.def.parents)) {
    const storeRef = await storeRefOf(ref, image);
    const pinned = lock?.parents?.[name];
    if (pinned) {
      if (!(await store.hasBlob(pinned.index))) {
        throw new KilnError(`parent ${storeRef} of ${image.name} is locked at ${pinned.index}, which is not in the local store`, `build it (kiln build ${storeRef}), or accept the current one: kiln refresh ${image.name} --only image`);
      }
      out[name] = pinned.index;
      continue;
    }
    const found = await store.resolve(storeRef);
    if (!found) throw new KilnError(`parent ${storeRef} of ${image.name} is not in the local store`, `build it first: kiln build ${storeRef} (or kiln build ${image.name} --with-parents)`);
    out[name] = found.digest;
  }
  return out;
}

export function renderEngineArgv(plan: BuildPlan, engine: EngineTarget): string[] {
  return engine.driver === "buildctl" ? renderBuildctl(plan, engine) : renderBuildx(plan, engine);
}

export async function buildImage(req: BuildOptions, ctx: BuildContext): Promise<BuildResult> {
  const started = performance.now();
  const { image, lock, plan, store } = await planBuild(req, ctx);
  const engine = await requireEngine(ctx.settings, { out: ctx.out ?? process.stderr });
  const annotations = typeof req.annotations === "function" && !req.dryRun ? await req.annotations() : req.annotations;
  const argvTemplate = renderEngineArgv(plan, engine);
  const base = { ref: plan.ref, image: image.name, target: plan.target, plan, argv: argvTemplate, pushed: [], loaded: [] };
  if (req.dryRun) return { ...base, digest: "", manifests: {}, durationMs: 0 };
  // What the build starts from is what gets attached, whatever changes in the checkout meanwhile.
  const lockBytes = await fs.readFile(lockPathOf(image.dir)).catch(() => undefined);
  const revision = await catalogRevision(image.dir, ctx.root ?? catalogRoot());

  // The work folder (prepared inputs, the engine's export) goes away when the build ends, also when interrupted.
  return withTempDir(`${image.name}-${plan.target}-`, async (workDir) => {
    const prepared = await prepareInputs({ image, lock, settings: ctx.settings, platforms: plan.platforms as Platform[], workDir });
    const finalPlan = withPrepared(plan, prepared, workDir);
    const exportDir = path.join(workDir, "export");
    const progress = createProgress(req.progress ?? "auto", ctx.out ?? process.stderr);
    const outcome = await withSecretsDir(ctx.settings, finalPlan.secrets.filter((s) => s.src.startsWith(SECRETS_DIR)).map((s) => s.id), async (secretsDir) => {
      const values = { [SECRETS_DIR]: secretsDir, [EXPORT_DIR]: exportDir, [WORK_DIR]: workDir };
      if (acrossNodes(finalPlan, engine, ctx.settings)) return buildAcrossNodes(finalPlan, engine, values, exportDir, progress, ctx.out ?? process.stderr);
      const main = await runEngineCommand(substitute(renderEngineArgv(finalPlan, engine), values), { progress });
      if (main.code !== 0) return main;
      // Filesystem outputs come from a second, fully cached run of the same build.
      for (const output of finalPlan.outputs.filter((o) => o.type === "local" || o.type === "tar")) {
        const argv = withOutput(substitute(renderEngineArgv(finalPlan, engine), values), `type=${output.type},dest=${path.resolve(output.dest)}`);
        const extra = await runEngineCommand(argv, { progress: createProgress("quiet", ctx.out ?? process.stderr) });
        if (extra.code !== 0) return extra;
      }
      return main;
    });
    if (outcome.code !== 0) {
      const summary = outcome.failure ?? `the engine exited with code ${outcome.code}`;
      const [first, ...rest] = summary.split("\n");
      if (rest.length) (ctx.out ?? process.stderr).write(rest.join("\n") + "\n");
      if (lostEngine(first!)) {
        throw new KilnError(`build of ${plan.ref} failed: the engine went away in the middle of it (the daemon stopped or restarted): ${first}`, "nothing was stored, loaded or pushed; run the same command again once `kiln engine status` says the engine is usable");
      }
      throw new KilnError(`build of ${plan.ref} failed: ${first}`, "nothing was stored, loaded or pushed");
    }
    await removeEngineMarks(exportDir);
    const stored = await store.importLayout(exportDir, plan.ref, {
      "dev.kiln.platforms": plan.platforms.join(","),
      "dev.kiln.source-date-epoch": String(plan.sourceDateEpoch),
      ...(typeof annotations === "object" ? annotations : {}),
    });
    const manifests = Object.fromEntries(Object.entries(stored.manifests).map(([p, d]) => [p, d.digest]));
    const attached = lockBytes ? await attachToBuild(store, stored.digest, lockBytes, { image: image.name, target: plan.target, platforms: plan.platforms, buildArgs: req.buildArgs, ...(revision ? { revision } : {}) }, ctx) : [];
    await writeStoreOutputs(store, stored.digest, plan.outputs, plan.load[0] ?? `kiln/${plan.image}:${plan.target}`);
    const loaded = await loadIntoDocker(store, stored.digest, plan.load);
    const pushed = plan.push.length ? await pushImage(store, stored.digest, plan.push, ctx.settings) : [];
    const stats = progress.stats();
    return { ...base, digest: stored.digest, manifests, durationMs: Math.round(performance.now() - started), loaded, pushed, steps: { total: stats.steps, cached: stats.cached }, attached };
  }, { parent: path.join(cacheDir(ctx.settings), "work") });
}

/** A multi-platform buildx build on a builder of several nodes (engine.nodes): one build per platform. */
function acrossNodes(plan: BuildPlan, engine: EngineTarget, settings: BuildContext["settings"]): boolean {
  return engine.driver === "buildx" && settings.engine.nodes.length > 1 && plan.platforms.length > 1;
}

/**
 * Each platform built alone and at once (buildx sends it to its node), into a
 * layout of its own; then one layout holding their index (src/build/per-node.ts).
 * The first platform's build shows the progress, the others run quiet.
 */
async function buildAcrossNodes(plan: BuildPlan, engine: EngineTarget, values: Record<string, string>, exportDir: string, progress: ReturnType<typeof createProgress>, out: NodeJS.WritableStream) {
  const parts = planPerPlatform(plan).map((p, i) => ({ platform: p.platforms[0]!, plan: p, dir: `${exportDir}-${i}` }));
  const runs = await Promise.all(
    parts.map((part, i) => runEngineCommand(substitute(renderEngineArgv(part.plan, engine), { ...values, [EXPORT_DIR]: part.dir }), { progress: i === 0 ? progress : createProgress("quiet", out) })),
  );
  const failed = runs.findIndex((r) => r.code !== 0);
  if (failed >= 0) return { ...runs[failed]!, failure: `[${parts[failed]!.platform}] ${runs[failed]!.failure ?? `the engine exited with code ${runs[failed]!.code}`}` };
  await mergeLayouts(parts, exportDir);
  return runs[0]!;
}

/**
 * Attaches the lock, then the SBOMs. An image whose SBOM cannot be made (a
 * package no lock pins) keeps its lock attachment and is built all the same:
 * one line says why it has no SBOM (`kiln sbom` shows the same error).
 */
async function attachToBuild(store: OciStore, digest: string, lockBytes: Buffer, record: BuildRecord, ctx: BuildContext): Promise<NonNullable<BuildResult["attached"]>> {
  const referrers = [await attachBuildLock(store, digest, lockBytes, record)];
  try {
    referrers.push(...(await attachBuildSboms(store, digest, record, ctx.root ?? catalogRoot())));
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    (ctx.out ?? process.stderr).write(`kiln: no SBOM attached to ${record.image}:${record.target}: ${e.toLine()}\n`);
  }
  return referrers.map((r) => ({ digest: r.digest, artifactType: r.artifactType, ...(r.annotations?.[PLATFORM_ANNOTATION] ? { platform: r.annotations[PLATFORM_ANNOTATION] } : {}) }));
}

/**
 * Publishes what the store holds for a request (load, push) without
 * building: a catalog build's up-to-date image, e.g. when a push failed
 * before and the same command runs again.
 */
export async function publishStored(req: BuildRequest, ctx: BuildContext): Promise<Pick<BuildResult, "digest" | "loaded" | "pushed">> {
  const { plan, store } = await planBuild(req, ctx);
  const stored = await store.require(plan.ref);
  const loaded = await loadIntoDocker(store, stored.digest, plan.load);
  const pushed = plan.push.length ? await pushImage(store, stored.digest, plan.push, ctx.settings) : [];
  return { digest: stored.digest, loaded, pushed };
}

/** Points the plan's prepared contexts at what preparation actually produced. */
function withPrepared(plan: BuildPlan, prepared: { contextDir?: string; namedContexts: Record<string, string> }, workDir: string): BuildPlan {
  const namedContexts: BuildPlan["namedContexts"] = { ...plan.namedContexts };
  for (const [name, dir] of Object.entries(prepared.namedContexts)) namedContexts[name] = { dir };
  for (const [name, ctx] of Object.entries(namedContexts)) {
    if ("dir" in ctx && ctx.dir.startsWith(WORK_DIR) && !(name in prepared.namedContexts)) {
      throw new KilnError(`input preparation produced no context "${name}" for ${plan.ref}`, `run \`kiln lock --check ${plan.image}\``);
    }
  }
  const contextDir = prepared.contextDir ?? plan.contextDir.replace(WORK_DIR, workDir);
  return { ...plan, namedContexts, contextDir };
}
