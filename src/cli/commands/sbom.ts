/** `kiln sbom IMAGE[:TARGET]`: the SPDX or CycloneDX bill of materials of one platform of an image in the store. */
import path from "node:path";
import type { Command } from "commander";
import { SUPPORTED_PLATFORMS } from "../../definition/schema.ts";
import { diskFullError, KilnError } from "../../errors.ts";
import { OciStore, writeAtomic } from "../../oci/store.ts";
import { catalogRoot, storeDir } from "../../paths.ts";
import { SBOM_FORMATS, sbomFor, storedPlatforms, type SbomFormat } from "../../sbom/index.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";

interface SbomFlags extends SettingsFlags {
  format: string;
  platform?: string;
  out?: string;
}

export function register(program: Command): void {
  addSettingsOptions(
    program
      .command("sbom")
      .description("bill of materials of an image in the store: SPDX 2.3 or CycloneDX 1.5 JSON for one platform (Debian packages with the lock's sha256 and licenses, git sources, downloads, parents)")
      .argument("<image>", "catalog reference (router, base:runtime)")
      .option("--format <format>", `${SBOM_FORMATS.join(" or ")}`, "spdx")
      .option("--platform <platform>", "the platform to describe (needed when the image has several)")
      .option("--out <file>", "write the document to this file (atomically) instead of standard output"),
  ).action(async (ref: string, flags: SbomFlags) => {
    if (!(SBOM_FORMATS as readonly string[]).includes(flags.format)) throw new KilnError(`unknown SBOM format "${flags.format}"`, `use --format ${SBOM_FORMATS.join(" or --format ")}`);
    if (flags.platform && !(SUPPORTED_PLATFORMS as readonly string[]).includes(flags.platform)) throw new KilnError(`unsupported platform "${flags.platform}"`, `use ${SUPPORTED_PLATFORMS.join(" or ")}`);
    const settings = await settingsFrom(flags);
    const store = await OciStore.open(storeDir(settings));
    const root = catalogRoot();
    let platform = flags.platform;
    if (!platform) {
      const platforms = await storedPlatforms(store, ref, root);
      if (platforms.length !== 1) throw new KilnError(`image ${ref} holds ${platforms.length} platforms (${platforms.join(", ")})`, `choose one: kiln sbom ${ref} --platform ${platforms[0]}`);
      platform = platforms[0]!;
    }
    const document = await sbomFor(store, ref, platform, flags.format as SbomFormat, root);
    if (!flags.out) {
      process.stdout.write(document);
      return;
    }
    try {
      await writeAtomic(path.resolve(flags.out), document);
    } catch (e) {
      const full = diskFullError(e, `cannot write ${flags.out}`);
      if (full) throw full;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new KilnError(`cannot write ${flags.out}: its folder ${path.dirname(path.resolve(flags.out))} does not exist`, "create it, or name another file");
      if (code) throw new KilnError(`cannot write ${flags.out}: ${code}`, "check that its folder is writable");
      throw e;
    }
  });
}
