/** `kiln outdated [IMAGE|--all]`: locked Debian packages with a newer version in the current signed indices. */
import { type Command, Option } from "commander";
import { debStore } from "../../debian/resolve.ts";
import { CurrentIndices, mirrorIndexSource } from "../../debian/updates.ts";
import { KilnError } from "../../errors.ts";
import { readLock } from "../../lock/io.ts";
import { imagesPending, outdatedReport, refreshCommand, renderOutdated } from "../../lock/outdated.ts";
import { type Lock, stableStringify } from "../../lock/schema.ts";
import { selectImages } from "../../lock/select.ts";
import { cacheDir, catalogRoot } from "../../paths.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";

interface OutdatedFlags extends SettingsFlags {
  all?: boolean;
  json?: boolean;
  failOn?: "security" | "any";
}

export function register(program: Command): void {
  addSettingsOptions(
    program
      .command("outdated")
      .argument("[image]", "catalog image")
      .description("list locked Debian packages that have a newer version in the current signed indices (bookworm, -updates, -security), security updates marked")
      .option("--all", "every image of the catalog")
      .option("--json", "print the report as JSON (docs/supply-chain.md)")
      .addOption(new Option("--fail-on <level>", "exit 1 when a security update (security) or any update (any) is pending").choices(["security", "any"])),
  ).action(async (name: string | undefined, flags: OutdatedFlags) => {
    const settings = await settingsFrom(flags);
    if (settings.offline) throw new KilnError("offline: kiln outdated compares the locks against the current signed indices of the Debian mirror", "run without --offline");
    const images = await selectImages("outdated", name, flags.all, catalogRoot());
    const locks: { image: string; lock: Lock }[] = [];
    for (const image of images) {
      const lock = await readLock(image.dir);
      if (image.def.inputs.debian && !lock?.debian) throw new KilnError(`${image.name} declares Debian packages but its lock pins none`, `run \`kiln lock ${image.name}\``);
      if (lock?.debian) locks.push({ image: image.name, lock });
      else if (name) process.stderr.write(`kiln: ${image.name} has no locked Debian packages\n`);
    }
    const progress = process.stderr.isTTY && !flags.json ? (line: string) => process.stderr.write(`${line}\n`) : undefined;
    progress?.(`outdated: reading the current Debian indices for ${locks.length} image${locks.length === 1 ? "" : "s"}`);
    const indices = new CurrentIndices(mirrorIndexSource(settings, debStore(cacheDir(settings)), cacheDir(settings)), settings);
    const report = await outdatedReport(locks, indices);
    process.stdout.write(flags.json ? stableStringify(report) : renderOutdated(report));
    if (!flags.failOn) return;
    const failing = imagesPending(report, flags.failOn === "security");
    if (!failing.length) return;
    throw new KilnError(`${flags.failOn === "security" ? "security updates" : "updates"} pending in ${failing.join(", ")}`, `run ${failing.map((n) => `\`${refreshCommand(n)}\``).join(", ")}, then rebuild`);
  });
}
