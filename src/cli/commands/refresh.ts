/** `kiln refresh [IMAGE|--all]`: re-resolve pins to the newest world, print what changed, write the lock. */
import type { Command } from "commander";
import { KilnError } from "../../errors.ts";
import { renderChanges } from "../../lock/diff.ts";
import { hasInputs, refreshLock } from "../../lock/refresh.ts";
import { readLock } from "../../lock/io.ts";
import { parseKinds, parseSnapshot, selectImages, writeLockIfChanged } from "../../lock/select.ts";
import { catalogRoot } from "../../paths.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";
import { withExamples } from "../examples.ts";
import { partOf } from "../../util/words.ts";

interface RefreshFlags extends SettingsFlags {
  all?: boolean;
  only?: string;
  snapshot?: string;
  dryRun?: boolean;
}

export function register(program: Command): void {
  addSettingsOptions(
    withExamples(program.command("refresh"), [
      ["kiln refresh router", "re-resolve every pin of the router, print the changes"],
      ["kiln refresh router --only image", "accept the parents now in the store"],
      ["kiln refresh --all --only debian --dry-run", "what a Debian refresh would change, writing nothing"],
    ])
      .argument("[image]", "catalog image")
      .description("resolve the newest pins for an image's inputs (git refs, downloads, Debian packages, parents), print the changes, write the lock")
      .option("--all", "every image of the catalog")
      .option("--only <kinds>", "only these input kinds, comma-separated: debian, git, url, image, source, npm")
      .option("--snapshot <ts>", "Debian snapshot to resolve at: a timestamp like 20261129T000000Z, or latest")
      .option("--dry-run", "print the changes, write nothing"),
  ).action(async (name: string | undefined, flags: RefreshFlags) => {
    const only = parseKinds(flags.only);
    const snapshot = parseSnapshot(flags.snapshot);
    const settings = await settingsFrom(flags);
    const images = await selectImages("refresh", name, flags.all, catalogRoot());
    let failed = 0;
    for (const image of images) {
      try {
        if (!hasInputs(image) && !(await readLock(image.dir))) {
          process.stdout.write(`${image.name}: no inputs to lock\n`);
          continue;
        }
        const { lock, changes } = await refreshLock(image, settings, { only, snapshot });
        const wrote = !flags.dryRun && (await writeLockIfChanged(image, lock));
        const state = changes.length ? (flags.dryRun ? "would change" : "updated") : wrote ? "written" : "unchanged";
        process.stdout.write(`${image.name}: ${state}\n${changes.length ? renderChanges(changes).replace(/^/gm, "  ") + "\n" : ""}`);
      } catch (e) {
        if (!(e instanceof KilnError) || images.length === 1) throw e;
        failed++;
        process.stderr.write(`kiln: ${image.name}: ${e.toLine()}\n`);
      }
    }
    if (failed) throw new KilnError(`${partOf(failed, images.length, "lock")} could not be refreshed`, "see the messages above; the other locks were written");
  });
}
