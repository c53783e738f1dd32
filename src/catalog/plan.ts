/**
 * Planning the catalog: for each selected image target, in build order,
 * whether it is up to date (and why not) and the BuildPlan a build would run.
 * Nothing is built or written. Targets whose parents are not in the store
 * yet get no plan (their parents' digests are not known before they build).
 */
import { planBuild, type BuildOptions } from "../build/build.ts";
import { KilnError } from "../errors.ts";
import { readLock } from "../lock/io.ts";
import { catalogRoot } from "../paths.ts";
import { checkBuildable } from "../plan/checks.ts";
import type { BuildPlan } from "../plan/types.ts";
import type { Settings } from "../settings/schema.ts";
import { loadSelection } from "./build.ts";
import { engineFingerprint } from "./engine.ts";
import { openExistingStore } from "./existing-store.ts";
import type { Selection } from "./graph.ts";
import { assess, platformsOf, type FreshnessStatus } from "./staleness.ts";
import { CatalogState } from "./state.ts";

export interface PlannedTarget {
  ref: string;
  status: FreshnessStatus;
  reasons: string[];
  plan?: BuildPlan;
  /** Why there is no plan (e.g. a parent not built yet). */
  unplanned?: string;
  /** Why a build would refuse it (a missing Dockerfile, a lock that does not pin what is declared). */
  refused?: string;
}

export async function planCatalog(
  selection: Selection,
  request: Omit<BuildOptions, "ref"> = {},
  ctx: { settings: Settings; root?: string },
): Promise<PlannedTarget[]> {
  const root = ctx.root ?? catalogRoot();
  const probing = engineFingerprint(ctx.settings);
  probing.catch(() => undefined);
  const { graph, refs } = await loadSelection(selection, root);
  const store = await openExistingStore(ctx.settings);
  const engine = await probing;
  const freshness = await assess(graph, refs, { store, state: CatalogState.forStore(store.dir), settings: ctx.settings, engine, platforms: request.platforms, buildArgs: request.buildArgs });
  return Promise.all(
    refs.map(async (ref) => {
      const f = freshness.get(ref)!;
      const base = { ref, status: f.status, reasons: f.reasons };
      const platforms = platformsOf(graph.nodes.get(ref)!, request.platforms);
      const node = graph.nodes.get(ref)!;
      try {
        await checkBuildable(node.image, await readLock(node.image.dir), { catalogBuild: true });
      } catch (e) {
        if (!(e instanceof KilnError)) throw e;
        return { ...base, refused: e.toLine() };
      }
      try {
        const { plan } = await planBuild({ ...request, ref, platforms }, { settings: ctx.settings, root });
        return { ...base, plan };
      } catch (e) {
        if (!(e instanceof KilnError)) throw e;
        return { ...base, unplanned: e.toLine() };
      }
    }),
  );
}
