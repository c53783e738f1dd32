/**
 * `kiln verify`: an image is reproducible when two builds from scratch (no
 * engine cache, each into a fresh store) give the same index and the same
 * manifest per platform. Parents are inputs: both builds get the exact
 * parent the local store (or the lock) names, copied into the fresh stores.
 */
import { buildImage, type BuildResult } from "../build/build.ts";
import { CatalogState } from "../catalog/state.ts";
import { storeRefOf } from "../lock/resolve.ts";
import { loadImage, type LoadedImage } from "../definition/catalog.ts";
import type { Platform } from "../definition/schema.ts";
import { KilnError } from "../errors.ts";
import { readLock } from "../lock/io.ts";
import { diffImages, formatDiff, type ImageDiff } from "../oci/diff.ts";
import { OciStore } from "../oci/store.ts";
import { storeDir } from "../paths.ts";
import { defaultTargetOf, splitRef } from "../plan/plan.ts";
import type { Settings } from "../settings/schema.ts";
import { withTempDir } from "../util/temp.ts";
import { sideOf } from "./images.ts";

export interface PlatformVerdict {
  platform: string;
  reproducible: boolean;
  first: string;
  second: string;
}

export interface VerifyResult {
  ref: string;
  reproducible: boolean;
  index: { first: string; second: string };
  platforms: PlatformVerdict[];
  /** The semantic diff of the two builds, when they differ. */
  diff?: ImageDiff;
  diffText?: string;
  durationMs: number;
  /** Kept for inspection with --keep. */
  stores?: [string, string];
}

export interface VerifyOptions {
  settings: Settings;
  root: string;
  platforms?: string[];
  /** Keep the two temporary stores (their paths are in the result). */
  keep?: boolean;
  /** Progress lines ("build 1 of 2 ..."). */
  log?: (line: string) => void;
}

/** Copies each parent the build will use from the local store into a fresh one, under the same reference. */
async function seedParents(image: LoadedImage, from: OciStore, to: OciStore): Promise<void> {
  const lock = await readLock(image.dir);
  for (const [name, ref] of Object.entries(image.def.parents)) {
    const storeRef = await storeRefOf(ref, image);
    const digest = lock?.parents?.[name]?.index ?? (await from.resolve(storeRef))?.digest;
    if (!digest || !(await from.hasBlob(digest))) {
      throw new KilnError(`parent ${storeRef}${digest ? ` (${digest})` : ""} of ${image.name} is not in the local store (${from.dir})`, `build it first: kiln build ${storeRef}`);
    }
    await withTempDir("kiln-verify-parent-", async (tmp) => {
      await from.exportLayout(digest, tmp);
      await to.importLayout(tmp, storeRef);
    });
  }
}

export async function verifyImage(refArg: string, opts: VerifyOptions): Promise<VerifyResult> {
  const started = Date.now();
  const { image: name, target: asked } = splitRef(refArg);
  const image = await loadImage(name, opts.root);
  const target = asked ?? defaultTargetOf(image);
  if (!(target in image.def.targets)) throw new KilnError(`image ${name} has no target "${target}"`, `targets: ${Object.keys(image.def.targets).join(", ")}`);
  const ref = `${name}:${target}`;
  const local = await OciStore.open(storeDir(opts.settings));
  // Two fresh stores, removed afterwards (unless kept), and when verify is interrupted.
  const inFreshStores = (fn: (stores: string[]) => Promise<VerifyResult>) =>
    withTempDir(`kiln-verify-${name}-1-`, (one) => withTempDir(`kiln-verify-${name}-2-`, (two) => fn([one, two]), { keep: opts.keep }), { keep: opts.keep });
  return inFreshStores(async (stores) => {
    const builds: BuildResult[] = [];
    for (const round of [1, 2]) {
      const dir = stores[round - 1]!;
      const fresh = await OciStore.open(dir);
      await seedParents(image, local, fresh);
      opts.log?.(`${ref}: build ${round} of 2 (no cache, fresh store)`);
      builds.push(
        await buildImage(
          { ref, noCache: true, progress: "quiet", ...(opts.platforms ? { platforms: opts.platforms as Platform[] } : {}) },
          { settings: { ...opts.settings, store: dir }, root: opts.root },
        ),
      );
    }
    const [a, b] = builds as [BuildResult, BuildResult];
    const platforms = [...new Set([...Object.keys(a.manifests), ...Object.keys(b.manifests)])].sort().map((platform) => ({
      platform,
      first: a.manifests[platform] ?? "(none)",
      second: b.manifests[platform] ?? "(none)",
      reproducible: a.manifests[platform] === b.manifests[platform],
    }));
    const result: VerifyResult = {
      ref,
      reproducible: a.digest === b.digest && platforms.every((p) => p.reproducible),
      index: { first: a.digest, second: b.digest },
      platforms,
      durationMs: Date.now() - started,
    };
    await recordVerdict(CatalogState.forStore(local.dir), result);
    if (!result.reproducible) {
      const [sa, sb] = [await OciStore.open(stores[0]!), await OciStore.open(stores[1]!)];
      const [ia, ib] = [sideOf(`${ref} (build 1)`, sa, await sa.require(a.digest)), sideOf(`${ref} (build 2)`, sb, await sb.require(b.digest))];
      result.diff = await diffImages(ia, ib);
      result.diffText = formatDiff(result.diff, { a: ia.label, b: ib.label });
    }
    if (opts.keep) result.stores = [stores[0]!, stores[1]!];
    return result;
  });
}

/**
 * Keeps the verdict beside the local store, keyed by the digests the builds
 * gave, so a catalog report can say "verified" for exactly those images.
 */
async function recordVerdict(state: CatalogState, r: VerifyResult): Promise<void> {
  const verdict = { ref: r.ref, reproducible: r.reproducible, verifiedAt: new Date().toISOString() };
  for (const digest of new Set([r.index.first, r.index.second])) await state.saveVerdict(digest, verdict);
}

/** Human lines: a verdict per platform and for the index, then the diff on a mismatch. */
export function formatVerify(r: VerifyResult): string {
  const mark = (ok: boolean) => (ok ? "✓" : "✗");
  const lines = [`${r.ref} (${(r.durationMs / 1000).toFixed(0)}s)`];
  for (const p of r.platforms) {
    lines.push(
      p.reproducible
        ? `  ${mark(true)} reproducible ${p.platform}: ${p.first}`
        : `  ${mark(false)} reproducible ${p.platform}: two builds differ: ${p.first} vs ${p.second}`,
    );
  }
  const same = r.index.first === r.index.second;
  // A single-platform image may be stored as its manifest alone: then the index line says nothing new.
  const onlyManifest = r.platforms.length === 1 && r.platforms[0]!.first === r.index.first && r.platforms[0]!.second === r.index.second;
  if (!onlyManifest) lines.push(same ? `  ${mark(true)} reproducible index: ${r.index.first}` : `  ${mark(false)} reproducible index: two builds differ: ${r.index.first} vs ${r.index.second}`);
  if (r.stores) lines.push(`  stores kept: ${r.stores.join(" ")}`);
  if (r.diffText) lines.push(...r.diffText.trimEnd().split("\n").map((l) => `    ${l}`));
  return lines.join("\n") + "\n";
}
