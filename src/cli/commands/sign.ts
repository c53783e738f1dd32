/** `kiln sign IMAGE`: sign a pushed image's digest with the site's key (cosign). */
import type { Command } from "commander";
import { signImage } from "../../signing/signatures.ts";
import { registerSignatureCommand } from "./signature-common.ts";

export function register(program: Command): void {
  registerSignatureCommand(
    program,
    "sign",
    "sign a pushed image by digest with the key in the site settings (signing.key), with cosign",
    signImage,
    (r) => `signed ${r.signed} with key ${r.key}\nsignature: ${r.signatureTag}\n`,
  );
}
