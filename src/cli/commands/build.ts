/** `kiln build IMAGE[:TARGET]`: one image, reproducibly, into the store; then load/push/outputs. */
import path from "node:path";
import type { Command } from "commander";
import { buildImage, type BuildResult } from "../../build/build.ts";
import { buildCatalog, DEFAULT_JOBS } from "../../catalog/build.ts";
import { recordBuildQuietly } from "../../catalog/history.ts";
import { inputAnnotations } from "../../catalog/record.ts";
import { CatalogState } from "../../catalog/state.ts";
import { imagesDir } from "../../definition/catalog.ts";
import { CATEGORIES, type Category } from "../../definition/schema.ts";
import { isKilnError, KilnError } from "../../errors.ts";
import { OciStore } from "../../oci/store.ts";
import { storeDir } from "../../paths.ts";
import { addBuildOptions, buildRequestFrom, settingsFrom, type BuildFlags } from "../options.ts";
import { formatArgv } from "../format.ts";
import { withExamples } from "../examples.ts";
import { openExistingStore } from "../../catalog/existing-store.ts";
import { withParentsHint } from "../../catalog/with-parents.ts";
import { preflight } from "../preflight.ts";

export function register(program: Command): void {
  addBuildOptions(withExamples(program.command("build"), [
      ["kiln build router --with-parents --load", "the router and the images it stands on, then into docker"],
      ["kiln build debian --platform linux/amd64", "one platform only"],
      ["kiln build router --dry-run", "check the definition and lock, print the engine command"],
      ["kiln build --all", "every stale image of the catalog, parents first"],
      ["kiln build router --push --registry registry.example:5000/me", "push the exact digest built"],
    ]).argument("[image]", "catalog image, `name` or `name:target`").description("build an image into the local store, reproducibly"))
    .option("--all", "build the whole catalog, parents first, only what is stale")
    .option("--category <category>", `build one category (${CATEGORIES.join(", ")})`)
    .option("--with-parents", "also build the image's parents (when stale)")
    .option("--jobs <n>", "images built at the same time", (v) => Number.parseInt(v, 10), DEFAULT_JOBS)
    .option("--force", "rebuild even when up to date (catalog builds)")
    .option("--report <file>", "write the run report as JSON (catalog builds)")
    .action(async (image: string | undefined, flags: BuildFlags & CatalogFlags) => {
      const settings = await settingsFrom(flags);
      if (flags.all || flags.category || flags.withParents || flags.force || flags.report) {
        if (flags.category && !(CATEGORIES as readonly string[]).includes(flags.category)) {
          throw new KilnError(`unknown category "${flags.category}"`, `use one of ${CATEGORIES.join(", ")}`);
        }
        if (!flags.all && !flags.category && !image) throw new KilnError("no image named", "kiln build IMAGE --with-parents, or --all, or --category CATEGORY");
        const { ref: _ref, dryRun, ...request } = buildRequestFrom(image ?? "", flags);
        void _ref;
        const report = await buildCatalog(
          { all: flags.all, category: flags.category as Category | undefined, refs: image ? [buildRequestFrom(image, flags).ref] : [], withParents: flags.withParents },
          { jobs: flags.jobs, force: flags.force, report: flags.report, dryRun, request },
          { settings },
        );
        if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
        return;
      }
      if (!image) throw new KilnError("no image named", "kiln build IMAGE (see `kiln ls`), or --all");
      const request = buildRequestFrom(image, flags);
      // A dry run writes nothing, not even an empty store.
      const store = flags.dryRun ? await openExistingStore(settings, () => withParentsHint(request.ref, { settings })) : await OciStore.open(storeDir(settings));
      await preflight(request.ref, { settings, store });
      // Record what the image was built from, so `kiln status` can tell later whether it is stale;
      // the record needs the whole catalog, so a broken definition elsewhere only skips it.
      const annotations = () =>
        inputAnnotations(request.ref, settings, { platforms: request.platforms, buildArgs: request.buildArgs }).catch((e: unknown) => {
          if (isKilnError(e)) return {};
          throw e;
        });
      const result = await buildImage({ ...request, annotations }, { settings });
      if (!flags.dryRun) {
        await recordBuildQuietly(store, CatalogState.forStore(store.dir), { ref: result.ref, digest: result.digest, durationMs: result.durationMs, imageDir: path.join(imagesDir(), result.image) });
      }
      process.stdout.write(flags.json ? JSON.stringify(resultData(result), null, 2) + "\n" : describeResult(result, flags.dryRun));
    });
}

interface CatalogFlags {
  all?: boolean;
  category?: string;
  withParents?: boolean;
  jobs?: number;
  force?: boolean;
  report?: string;
}

export function resultData(r: BuildResult): object {
  return { ref: r.ref, digest: r.digest, manifests: r.manifests, durationMs: r.durationMs, loaded: r.loaded, pushed: r.pushed, steps: r.steps, ...(r.attached ? { attached: r.attached } : {}) };
}

function describeResult(r: BuildResult, dryRun?: boolean): string {
  if (dryRun) return `${r.ref}: dry run, nothing built\n${formatArgv(r.argv)}\n`;
  const lines = [`${r.ref} ${r.digest}`];
  for (const [platform, digest] of Object.entries(r.manifests)) lines.push(`  ${platform.padEnd(12)} ${digest}`);
  for (const l of r.loaded) lines.push(`  loaded ${l}`);
  for (const a of r.attached ?? []) lines.push(`  attached ${a.artifactType}${a.platform ? ` (${a.platform})` : ""} ${a.digest}`);
  for (const p of r.pushed) lines.push(`  pushed ${p.ref}@${p.digest}`);
  const cached = r.steps ? `, ${r.steps.cached}/${r.steps.total} steps cached` : "";
  lines.push(`  built in ${(r.durationMs / 1000).toFixed(1)}s${cached}`);
  return lines.join("\n") + "\n";
}
