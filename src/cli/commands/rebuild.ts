/**
 * `kiln rebuild REGISTRY/NAME@sha256:...`: rebuild a pushed image from the lock and revision attached to it.
 * Rebuilding runs the catalog's definitions: see src/checks/rebuild.ts for what it must trust first.
 */
import type { Command } from "commander";
import { formatRebuild, rebuildFromRegistry } from "../../checks/rebuild.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";

interface RebuildFlags extends SettingsFlags {
  catalog?: string;
  revision?: string;
  cache?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  addSettingsOptions(
    program
      .command("rebuild")
      .description("rebuild a pushed image from its attached lock and catalog revision; prints identical (exit 0) or the diff (exit 1)")
      .argument("<image>", "REGISTRY/NAME@sha256:... (pushed by kiln build --push)")
      .option(
        "--catalog <git-url-or-path>",
        "the catalog to check the revision out of, trusted to run (default: the URL the build recorded, only when rebuild.trustedCatalogs lists it or the site's key signed the lock attachment)",
      )
      .option("--revision <rev>", "rebuild another revision than the recorded one, to see what a change does to the image")
      .option("--no-cache", "build without the engine's cache")
      .option("--json", "print the result as JSON"),
  ).action(async (ref: string, flags: RebuildFlags) => {
    const settings = await settingsFrom(flags);
    const result = await rebuildFromRegistry(ref, {
      settings,
      catalog: flags.catalog,
      revision: flags.revision,
      noCache: flags.cache === false,
      log: (l) => process.stderr.write(`${l}\n`),
    });
    process.stdout.write(flags.json ? JSON.stringify(result, null, 2) + "\n" : formatRebuild(result));
    if (!result.identical) process.exitCode = 1;
  });
}
