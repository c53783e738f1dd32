/** `kiln lock [IMAGE|--all]`: pin what is missing, keep existing pins; `--check`: fail when anything is unpinned or stale. */
import type { Command } from "commander";
import { KilnError } from "../../errors.ts";
import { checkLock } from "../../lock/check.ts";
import { renderChanges } from "../../lock/diff.ts";
import { readLock } from "../../lock/io.ts";
import { completeLock, hasInputs } from "../../lock/refresh.ts";
import { parseSnapshot, selectImages, writeLockIfChanged } from "../../lock/select.ts";
import { catalogRoot } from "../../paths.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";
import { withExamples } from "../examples.ts";
import { counted, partOf } from "../../util/words.ts";
import { openExistingStore } from "../../catalog/existing-store.ts";

interface LockFlags extends SettingsFlags {
  all?: boolean;
  check?: boolean;
  snapshot?: string;
}

export function register(program: Command): void {
  addSettingsOptions(
    withExamples(program.command("lock"), [
      ["kiln lock router", "pin what the router's definition declares and its lock lacks"],
      ["kiln lock --all --check", "exit non-zero when any lock is not current"],
      ["kiln lock debian --snapshot latest", "pin new packages at the newest Debian snapshot"],
    ])
      .argument("[image]", "catalog image")
      .description("pin every declared input that has no pin yet (existing pins are kept); with --check, only report")
      .option("--all", "every image of the catalog")
      .option("--check", "exit non-zero when an input is unpinned or a pin is stale relative to the definition or the store")
      .option("--snapshot <ts>", "Debian snapshot for packages not locked yet: a timestamp like 20261129T000000Z, or latest"),
  ).action(async (name: string | undefined, flags: LockFlags) => {
    const settings = await settingsFrom(flags);
    const images = await selectImages("lock", name, flags.all, catalogRoot());
    if (flags.check) {
      // Parent pins are compared with the store; a lock without parents needs none.
      const store = images.some((i) => Object.keys(i.def.parents).length) ? await openExistingStore(settings) : undefined;
      const stale: string[] = [];
      for (const image of images) {
        const problems = await checkLock(image, await readLock(image.dir), { store });
        for (const p of problems) process.stdout.write(`${image.name}: ${p.state}: ${p.message}\n`);
        if (problems.length) stale.push(image.name);
      }
      if (stale.length) throw new KilnError(`${partOf(stale.length, images.length, "lock", ["is", "are"])} not current (${stale.join(", ")})`, `run ${stale.map((n) => `\`kiln refresh ${n}\``).join(", ")}`);
      process.stdout.write(`${counted(images.length, "lock")} current\n`);
      return;
    }
    const snapshot = parseSnapshot(flags.snapshot);
    for (const image of images) {
      if (!hasInputs(image) && !(await readLock(image.dir))) {
        process.stdout.write(`${image.name}: no inputs to lock\n`);
        continue;
      }
      const { lock, changes } = await completeLock(image, settings, { snapshot });
      const wrote = await writeLockIfChanged(image, lock);
      process.stdout.write(`${image.name}: ${changes.length ? "locked" : wrote ? "written" : "unchanged"}\n${changes.length ? renderChanges(changes).replace(/^/gm, "  ") + "\n" : ""}`);
    }
  });
}
