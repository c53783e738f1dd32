/** `kiln site [--out DIR]`: the catalog as static HTML pages, from the catalog, the store and kiln's records. */
import path from "node:path";
import type { Command } from "commander";
import { openExistingStore } from "../../catalog/existing-store.ts";
import { engineFingerprint } from "../../catalog/engine.ts";
import { buildGraph } from "../../catalog/graph.ts";
import { assess } from "../../catalog/staleness.ts";
import { CatalogState } from "../../catalog/state.ts";
import { loadCatalog } from "../../definition/catalog.ts";
import { catalogRoot } from "../../paths.ts";
import { gatherSite } from "../../site/data.ts";
import { renderSite } from "../../site/pages.ts";
import { writeSite } from "../../site/write.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";
import { counted } from "../../util/words.ts";

interface SiteFlags extends SettingsFlags {
  out: string;
  generatedAt?: string;
}

export function register(program: Command): void {
  addSettingsOptions(
    program
      .command("site")
      .description("write the catalog as a static site (index, one page per image: run line, pins, layers, size history)")
      .option("--out <dir>", "folder to write (created; an existing one must be empty or hold an earlier site)", "site")
      .option("--generated-at <text>", "a date to print in each page's footer (none by default: the same records give the same files)"),
  ).action(async (flags: SiteFlags) => {
    const started = performance.now();
    const settings = await settingsFrom(flags);
    // Never create a store here: a site of an empty store made by mistake would say "never built" everywhere.
    const store = await openExistingStore(settings);
    const probing = engineFingerprint(settings);
    probing.catch(() => undefined);
    const catalog = await loadCatalog(catalogRoot());
    const graph = buildGraph(catalog);
    const state = CatalogState.forStore(store.dir);
    const engine = await probing;
    if (!engine) process.stderr.write("kiln: no engine answers; staleness leaves engine versions out\n");
    const freshness = await assess(graph, graph.order, { store, state, settings, engine });
    const data = await gatherSite({ catalog, store, state, freshness, generatedAt: flags.generatedAt });
    const files = renderSite(data);
    await writeSite(flags.out, files);
    const ms = performance.now() - started;
    process.stdout.write(`${path.join(flags.out, "index.html")}: ${counted(data.images.length, "image")}, ${counted(files.size, "page")} in ${(ms / 1000).toFixed(1)}s\n`);
  });
}
