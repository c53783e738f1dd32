/** `kiln diff A B`: what makes two images differ, field by field and file by file. */
import type { Command } from "commander";
import { openImageArg } from "../../checks/images.ts";
import { diffImages, formatDiff } from "../../oci/diff.ts";
import { OciStore } from "../../oci/store.ts";
import { catalogRoot, storeDir } from "../../paths.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";
import { platformList } from "./checks-common.ts";

interface DiffFlags extends SettingsFlags {
  platform?: string[];
  json?: boolean;
}

export function register(program: Command): void {
  addSettingsOptions(
    program
      .command("diff")
      .description("semantic diff of two images: config, annotations, then files per layer (exit 0 identical, 1 different)")
      .argument("<a>", "catalog ref in the store (debian, base:runtime), a digest, or oci:PATH[@sha256:...]")
      .argument("<b>", "the same for the other image")
      .option("--platform <platforms>", "compare only these platforms (repeatable or comma-separated)", (v: string, p: string[] = []) => [...p, v])
      .option("--json", "print the differences as JSON"),
  ).action(async (a: string, b: string, flags: DiffFlags) => {
    const settings = await settingsFrom(flags);
    const store = await OciStore.open(storeDir(settings));
    const [sa, sb] = [await openImageArg(a, store, catalogRoot()), await openImageArg(b, store, catalogRoot())];
    const result = await diffImages(sa, sb, { platforms: platformList(flags.platform) });
    process.stdout.write(flags.json ? JSON.stringify(result, null, 2) + "\n" : formatDiff(result, { a: sa.label, b: sb.label }));
    if (!result.identical) process.exitCode = 1;
  });
}
