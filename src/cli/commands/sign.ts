/** `kiln sign IMAGE`: sign a pushed image's digest with the site's key (cosign). */
import type { Command } from "commander";
import { attachmentLabel, signImage } from "../../signing/signatures.ts";
import { registerSignatureCommand } from "./signature-common.ts";

export function register(program: Command): void {
  registerSignatureCommand(
    program,
    "sign",
    "sign a pushed image kiln built (by digest) and each of its attachments (lock, SBOMs) with the key in the site settings (signing.key), with cosign",
    signImage,
    (r) =>
      [
        `signed ${r.signed} with key ${r.key}`,
        `signature: ${r.signatureTag}`,
        ...r.attachments.map((a) => `  attachment ${attachmentLabel(a)}: signed`),
        ...(r.foreign ?? []).map((a) => `  attachment ${attachmentLabel(a)}: ${a.problem}`),
        "",
      ].join("\n"),
  );
}
