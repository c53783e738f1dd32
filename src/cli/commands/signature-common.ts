/** What `kiln sign` and `kiln verify-signature` share: one pushed image argument, settings, --json. */
import type { Command } from "commander";
import type { Settings } from "../../settings/schema.ts";
import type { SignatureResult } from "../../signing/signatures.ts";
import { addSettingsOptions, settingsFrom, type SettingsFlags } from "../options.ts";

interface SignatureFlags extends SettingsFlags {
  json?: boolean;
}

export function registerSignatureCommand(
  program: Command,
  name: string,
  description: string,
  act: (image: string, settings: Settings) => Promise<SignatureResult>,
  describe: (r: SignatureResult) => string,
): void {
  addSettingsOptions(
    program
      .command(name)
      .description(description)
      .argument("<image>", "the pushed image: REGISTRY/NAME:TAG (resolved to its digest first) or REGISTRY/NAME@sha256:...")
      .option("--json", "print the result as JSON"),
  ).action(async (image: string, flags: SignatureFlags) => {
    const r = await act(image, await settingsFrom(flags));
    process.stdout.write(flags.json ? JSON.stringify(r, null, 2) + "\n" : describe(r));
  });
}
