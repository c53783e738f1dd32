/** `kiln ls`: the catalog, with each target's current digest from the local store. */
import path from "node:path";
import { Option, type Command } from "commander";
import { storeEntries } from "../../catalog/staleness.ts";
import { listCatalog, markdownTable, updateReadme, type ListedImage } from "../../catalog/listing.ts";
import { table } from "../../catalog/report.ts";
import { loadCatalog } from "../../definition/catalog.ts";
import { CATEGORIES } from "../../definition/schema.ts";
import { catalogRoot } from "../../paths.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";
import { withExamples } from "../examples.ts";
import { openExistingStore } from "../../catalog/existing-store.ts";

interface LsFlags extends SettingsFlags {
  json?: boolean;
  markdown?: boolean;
  updateReadme?: string | boolean;
  category?: string;
}

export function register(program: Command): void {
  addSettingsOptions(
    withExamples(program.command("ls"), [
      ["kiln ls", "the catalog with the digests in the store"],
      ["kiln ls --category infrastructure", "one category"],
      ["kiln ls --json", "as data"],
    ])
      .description("list the catalog: name, category, platforms, description, current digests")
      .addOption(new Option("--category <category>", "only this category").choices(CATEGORIES))
      .option("--json", "print as JSON")
      .option("--markdown", "print the README image table (no digests)")
      .option("--update-readme [file]", "rewrite the image table in README.md (or FILE) between its markers"),
  ).action(async (flags: LsFlags) => {
    const catalog = await loadCatalog(catalogRoot());
    if (flags.markdown || flags.updateReadme) {
      const text = markdownTable(listCatalog(catalog));
      if (!flags.updateReadme) return void process.stdout.write(text);
      const file = typeof flags.updateReadme === "string" ? flags.updateReadme : path.join(catalogRoot(), "README.md");
      const changed = await updateReadme(file, text);
      process.stdout.write(`${path.relative(process.cwd(), file) || file}: image table ${changed ? "updated" : "already up to date"}\n`);
      return;
    }
    const settings = await settingsFrom(flags);
    const entries = await storeEntries(await openExistingStore(settings));
    const images = listCatalog(catalog, entries).filter((i) => !flags.category || i.category === flags.category);
    process.stdout.write(flags.json ? JSON.stringify(images, null, 2) + "\n" : describeImages(images));
  });
}

function describeImages(images: ListedImage[]): string {
  const rows = images.map((i) => {
    const digests = Object.entries(i.targets).map(([t, d]) => `${Object.keys(i.targets).length > 1 ? `${t}:` : ""}${d.digest ? d.digest.slice(7, 19) : "-"}`);
    return [i.name, i.category, i.platforms.map((p) => p.replace("linux/", "")).join(","), digests.join(" "), i.description];
  });
  return table(["NAME", "CATEGORY", "PLATFORMS", "DIGEST", "DESCRIPTION"], rows);
}
