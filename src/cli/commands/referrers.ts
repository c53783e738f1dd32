/** `kiln referrers IMAGE`: what is attached to an image (lock, SBOMs), in the store or in a registry. */
import type { Command } from "commander";
import { openImageArg } from "../../checks/images.ts";
import { parseDigestRef, remoteReferrers } from "../../oci/oras.ts";
import { listReferrers, type Referrer } from "../../oci/referrers.ts";
import { OciStore } from "../../oci/store.ts";
import { catalogRoot, storeDir } from "../../paths.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";

interface ReferrersFlags extends SettingsFlags {
  type?: string;
  json?: boolean;
}

export function register(program: Command): void {
  addSettingsOptions(
    program
      .command("referrers")
      .description("list the artifacts attached to an image (OCI referrers): in the store, or in a registry for REGISTRY/NAME@sha256:...")
      .argument("<image>", "catalog ref in the store (router, base:runtime), a digest, or REGISTRY/NAME@sha256:...")
      .option("--type <artifact-type>", "only artifacts of this type")
      .option("--json", "print the referrers as JSON"),
  ).action(async (arg: string, flags: ReferrersFlags) => {
    const settings = await settingsFrom(flags);
    let found: Referrer[];
    if (arg.includes("/") && arg.includes("@sha256:")) {
      const { repository, digest } = parseDigestRef(arg);
      found = await remoteReferrers(repository, digest, settings, flags.type);
    } else {
      const store = await OciStore.open(storeDir(settings));
      const side = await openImageArg(arg, store, catalogRoot());
      found = await listReferrers(store, side.image.digest, flags.type);
    }
    if (flags.json) return void process.stdout.write(JSON.stringify(found, null, 2) + "\n");
    for (const r of found) {
      const notes = Object.entries(r.annotations ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");
      process.stdout.write(`${r.digest} ${r.artifactType} ${r.size}B${notes ? ` ${notes}` : ""}\n`);
    }
  });
}
