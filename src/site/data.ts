/**
 * Everything the site shows, gathered once into plain data: the catalog's
 * definitions and READMEs, locks, the store's digests, layers and sizes, and
 * the state's verdicts, test results and build history. Staleness is passed
 * in (it needs the engine's versions). Every list is in a fixed order, so
 * the same inputs give the same data, and so the same pages.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { diffPins, flattenPins, loadBuilds, loadPins, type BuildRecord, type PinChange, type PinSet } from "../catalog/history.ts";
import { listCatalog } from "../catalog/listing.ts";
import { imageSizes, uncompressedSize, type PlatformSize } from "../catalog/sizes.ts";
import { storeEntries, type FreshnessStatus } from "../catalog/staleness.ts";
import type { CatalogState } from "../catalog/state.ts";
import { loadTestRecord, type TestRecord } from "../catalog/test-records.ts";
import type { Catalog } from "../definition/catalog.ts";
import { runtimeOf } from "../checks/images.ts";
import { readLock } from "../lock/io.ts";
import type { ImageConfig } from "../oci/diff.ts";
import type { OciManifest, OciStore } from "../oci/store.ts";
import { dockerRunLine, envVars, imageTag, type EnvVar } from "./run-line.ts";

export type Verdict = "verified" | "differs" | "not verified";

export interface LayerRow {
  digest: string;
  compressedBytes: number;
  uncompressedBytes: number;
  /** The build step that made it (the image config's history). */
  createdBy?: string;
}

export interface PinDiff {
  from: Pick<BuildRecord, "digest" | "builtAt">;
  to: Pick<BuildRecord, "digest" | "builtAt">;
  changes: PinChange[];
}

export interface SiteTarget {
  ref: string;
  target: string;
  description?: string;
  isDefault: boolean;
  platforms: string[];
  digest?: string;
  sizes: PlatformSize[];
  layers: Record<string, LayerRow[]>;
  verdict: Verdict;
  test?: TestRecord;
  freshness: { status: FreshnessStatus; reasons: string[] };
  /** Recorded builds, oldest first. */
  history: BuildRecord[];
  /** Latest recorded build against the one before it; undefined with fewer than two. */
  pinDiff?: PinDiff;
  tag: string;
  runLine: string;
  user: string;
  ports: number[];
  volumes: string[];
}

export interface SiteImage {
  name: string;
  category: string;
  description: string;
  platforms: string[];
  env: EnvVar[];
  /** The current lock, one line per pin; undefined when the image has no lock. */
  pins?: PinSet;
  snapshot?: string;
  targets: SiteTarget[];
}

export interface SiteData {
  /** Shown in the footer only when given. */
  generatedAt?: string;
  images: SiteImage[];
}

export interface GatherInput {
  catalog: Catalog;
  store: OciStore;
  state: CatalogState;
  /** ref -> staleness (kiln status); a ref missing here shows as never built or up to date by its digest. */
  freshness: Map<string, { status: FreshnessStatus; reasons: string[] }>;
  generatedAt?: string;
}

export async function gatherSite(input: GatherInput): Promise<SiteData> {
  const { catalog, store, state } = input;
  const entries = await storeEntries(store);
  const images: SiteImage[] = [];
  for (const listed of listCatalog(catalog, entries)) {
    const loaded = catalog.images.get(listed.name)!;
    const def = loaded.def;
    const lock = await readLock(loaded.dir);
    const readme = await fs.readFile(path.join(loaded.dir, "README.md"), "utf8").catch(() => undefined);
    const defaultRuntime = runtimeOf(def, listed.defaultTarget);
    const targets: SiteTarget[] = [];
    for (const [target, t] of Object.entries(listed.targets)) {
      const ref = `${listed.name}:${target}`;
      const runtime = runtimeOf(def, target);
      const digest = t.digest;
      const sizes = digest ? await imageSizes(store, state, digest) : [];
      const layers = digest ? await layersOf(store, state, digest) : {};
      const verdict = digest ? await state.loadVerdict(digest) : undefined;
      const version = digest ? await versionLabel(store, digest) : undefined;
      const snapshotDate = lock?.debian ? `${lock.debian.snapshot.slice(0, 4)}-${lock.debian.snapshot.slice(4, 6)}-${lock.debian.snapshot.slice(6, 8)}` : undefined;
      const isDefault = target === listed.defaultTarget;
      const tag = imageTag(def, target, isDefault, { version, snapshotDate });
      const env = envVars(readme, runtime);
      const history = await loadBuilds(state, ref);
      targets.push({
        ref,
        target,
        ...(t.description ? { description: t.description } : {}),
        isDefault,
        platforms: [...(def.targets[target]?.platforms ?? def.platforms)].sort(),
        ...(digest ? { digest } : {}),
        sizes,
        layers,
        verdict: verdict === undefined ? "not verified" : verdict.reproducible ? "verified" : "differs",
        ...(digest ? { test: await loadTestRecord(state, digest) } : {}),
        freshness: input.freshness.get(ref) ?? (digest ? { status: "up-to-date", reasons: [] } : { status: "never-built", reasons: ["never built"] }),
        history,
        pinDiff: await pinDiffOf(state, history),
        tag,
        runLine: dockerRunLine(listed.name, runtime, env, tag),
        user: runtime.user,
        ports: [...runtime.ports].sort((a, b) => a - b),
        volumes: runtime.volumes,
      });
    }
    images.push({
      name: listed.name,
      category: listed.category,
      description: listed.description,
      platforms: listed.platforms,
      env: envVars(readme, defaultRuntime),
      ...(lock ? { pins: flattenPins(lock) } : {}),
      ...(lock?.debian ? { snapshot: lock.debian.snapshot } : {}),
      targets,
    });
  }
  return { ...(input.generatedAt ? { generatedAt: input.generatedAt } : {}), images };
}

/** Per platform, each layer with its sizes and the step that made it. */
async function layersOf(store: OciStore, state: CatalogState, digest: string): Promise<Record<string, LayerRow[]>> {
  const image = await store.require(digest);
  const out: Record<string, LayerRow[]> = {};
  for (const [platform, desc] of Object.entries(image.manifests).sort(([a], [b]) => a.localeCompare(b))) {
    const manifest = await store.readJson<OciManifest>(desc.digest);
    const config = await store.readJson<ImageConfig>(manifest.config.digest).catch(() => undefined);
    const steps = (config?.history ?? []).filter((h) => !h.empty_layer).map((h) => h.created_by);
    const rows: LayerRow[] = [];
    for (const [i, l] of manifest.layers.entries()) {
      const uncompressed = await state.layerSize(l.digest, () => uncompressedSize(store, l));
      const createdBy = steps.length === manifest.layers.length ? steps[i] : undefined;
      rows.push({ digest: l.digest, compressedBytes: l.size, uncompressedBytes: uncompressed, ...(createdBy ? { createdBy } : {}) });
    }
    out[platform] = rows;
  }
  return out;
}

/** The image's version label (org.opencontainers.image.version) from its first platform, for `{version}` tags. */
async function versionLabel(store: OciStore, digest: string): Promise<string | undefined> {
  const image = await store.require(digest);
  const first = Object.keys(image.manifests).sort()[0];
  if (!first) return undefined;
  const manifest = await store.readJson<OciManifest>(image.manifests[first]!.digest);
  const config = await store.readJson<ImageConfig & { config?: { Labels?: Record<string, string> } }>(manifest.config.digest).catch(() => undefined);
  return config?.config?.Labels?.["org.opencontainers.image.version"];
}

async function pinDiffOf(state: CatalogState, history: BuildRecord[]): Promise<PinDiff | undefined> {
  if (history.length < 2) return undefined;
  const [from, to] = [history.at(-2)!, history.at(-1)!];
  const before = from.pins ? await loadPins(state, from.pins) : {};
  const after = to.pins ? await loadPins(state, to.pins) : {};
  return { from: { digest: from.digest, builtAt: from.builtAt }, to: { digest: to.digest, builtAt: to.builtAt }, changes: diffPins(before ?? {}, after ?? {}) };
}
