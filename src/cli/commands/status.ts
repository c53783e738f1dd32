/** `kiln status [IMAGE...|--all]`: which images are up to date, which are stale and why. */
import { Option, type Command } from "commander";
import { engineFingerprint } from "../../catalog/engine.ts";
import { table } from "../../catalog/report.ts";
import { assess } from "../../catalog/staleness.ts";
import { CatalogState } from "../../catalog/state.ts";
import { CATEGORIES, type Category } from "../../definition/schema.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";
import { withExamples } from "../examples.ts";
import { allOf, partOf } from "../../util/words.ts";
import { openExistingStore } from "../../catalog/existing-store.ts";
import { withParentsCommand, withParentsHint } from "../../catalog/with-parents.ts";
import { buildGraph, selectNodes } from "../../catalog/graph.ts";
import { loadCatalog } from "../../definition/catalog.ts";
import { KilnError } from "../../errors.ts";
import { catalogRoot } from "../../paths.ts";

interface StatusFlags extends SettingsFlags {
  all?: boolean;
  category?: Category;
  platform?: string[];
  json?: boolean;
  check?: boolean;
}

export function register(program: Command): void {
  addSettingsOptions(
    withExamples(program.command("status"), [
      ["kiln status", "every image: up to date, stale (and why) or never built"],
      ["kiln status router", "the router alone; a parent not built or stale is named under WHY"],
      ["kiln status --check", "exit 1 when anything needs a build (for CI)"],
    ])
      .argument("[images...]", "catalog images (`name` or `name:target`); default: all")
      .description("show which images are up to date and which are stale, and why")
      .option("--all", "every image of the catalog (the default)")
      .addOption(new Option("--category <category>", "only this category").choices(CATEGORIES))
      .option("--platform <platforms>", "compare against a build for these platforms", (v: string, prev: string[] = []) => [...prev, v])
      .option("--json", "print as JSON")
      .option("--check", "exit with code 1 when anything is not up to date"),
  ).action(async (images: string[], flags: StatusFlags) => {
    const settings = await settingsFrom(flags);
    const selection = images.length || flags.category ? { refs: images, category: flags.category, all: flags.all } : { all: true };
    const probing = engineFingerprint(settings);
    probing.catch(() => undefined);
    const catalog = await loadCatalog(catalogRoot());
    const graph = buildGraph(catalog);
    const refs = selectNodes(graph, catalog, selection);
    if (refs.length === 0) throw new KilnError(`no image matches ${flags.category ? `category ${flags.category}` : "the selection (the catalog is empty)"}`, "`kiln ls` lists the catalog");
    const store = await openExistingStore(settings, images.length === 1 ? () => withParentsHint(images[0]!, { settings }) : undefined);
    const engine = await probing;
    if (!engine) process.stderr.write("kiln: no engine answers; engine versions are left out of the comparison\n");
    const result = await assess(graph, refs, { store, state: CatalogState.forStore(store.dir), settings, engine, platforms: flags.platform });
    const rows = refs.map((r) => result.get(r)!);
    if (flags.json) {
      process.stdout.write(JSON.stringify(rows.map(({ ref, status, reasons, digest, inputsHash }) => ({ ref, status, reasons, digest, inputs: inputsHash })), null, 2) + "\n");
    } else {
      const words = { "up-to-date": "up to date", stale: "stale", "never-built": "never built" } as const;
      process.stdout.write(
        table(
          ["IMAGE", "STATUS", "DIGEST", "WHY"],
          rows.map((f) => [f.ref, words[f.status], f.digest ? f.digest.slice(7, 19) : "-", f.status === "never-built" ? "" : f.reasons.join("; ")]),
        ),
      );
      const stale = rows.filter((f) => f.status !== "up-to-date").length;
      // One image named: the build that brings it and what it stands on up to date, with what that builds.
      const fix = images.length === 1 && !flags.category ? withParentsCommand(images[0]!, graph, selectNodes(graph, catalog, { refs: images, withParents: true }), result) : "kiln build --all";
      process.stdout.write(stale ? `${partOf(stale, rows.length, "image", ["needs", "need"])} a build: ${fix}\n` : `${allOf(rows.length, "image")} ${rows.length === 1 ? "is" : "are"} up to date\n`);
    }
    if (flags.check && rows.some((f) => f.status !== "up-to-date")) process.exitCode = 1;
  });
}
