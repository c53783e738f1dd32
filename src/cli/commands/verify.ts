/** `kiln verify IMAGE...|--all`: build twice from scratch and compare digests; diff on a mismatch. */
import type { Command } from "commander";
import { buildGraph } from "../../catalog/graph.ts";
import { formatVerify, verifyImage, type VerifyResult } from "../../checks/verify.ts";
import { loadCatalog } from "../../definition/catalog.ts";
import { KilnError } from "../../errors.ts";
import { catalogRoot } from "../../paths.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";
import { platformList } from "./checks-common.ts";

interface VerifyFlags extends SettingsFlags {
  all?: boolean;
  platform?: string[];
  keep?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  addSettingsOptions(
    program
      .command("verify")
      .description("build twice with no cache into fresh stores and compare index and manifest digests; exit 1 when not reproducible")
      .argument("[images...]", "catalog refs: name or name:target")
      .option("--all", "every target of every catalog image, parents first")
      .option("--platform <platforms>", "platform(s) to build (default: the definition's), repeatable or comma-separated", (v: string, p: string[] = []) => [...p, v])
      .option("--keep", "keep the two temporary stores for inspection")
      .option("--json", "print the results as JSON"),
  ).action(async (images: string[], flags: VerifyFlags) => {
    if (flags.all === !!images.length) throw new KilnError(flags.all ? "name images or pass --all, not both" : "name the images to verify, or pass --all");
    const settings = await settingsFrom(flags);
    const root = catalogRoot();
    const refs = flags.all ? buildGraph(await loadCatalog(root)).order : images;
    const results: VerifyResult[] = [];
    for (const ref of refs) {
      const r = await verifyImage(ref, { settings, root, platforms: platformList(flags.platform), keep: flags.keep, log: (l) => process.stderr.write(`${l}\n`) });
      results.push(r);
      if (!flags.json) process.stdout.write(formatVerify(r));
    }
    if (flags.json) process.stdout.write(JSON.stringify(results, null, 2) + "\n");
    const bad = results.filter((r) => !r.reproducible);
    if (bad.length) {
      process.stderr.write(`kiln: reproducible: ${bad.map((r) => `${r.ref} (${r.platforms.filter((p) => !p.reproducible).map((p) => p.platform).join(", ") || "index"})`).join(", ")} not reproducible\n`);
      process.exitCode = 1;
    } else if (!flags.json) process.stderr.write(`${results.length} image${results.length === 1 ? "" : "s"} reproducible\n`);
  });
}
