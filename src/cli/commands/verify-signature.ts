/** `kiln verify-signature IMAGE`: check a pushed image's digest against the site's public key (cosign). */
import type { Command } from "commander";
import { attachmentLabel, verifyImageSignature } from "../../signing/signatures.ts";
import { registerSignatureCommand } from "./signature-common.ts";

export function register(program: Command): void {
  registerSignatureCommand(
    program,
    "verify-signature",
    "check that a pushed image's digest and each of its attachments (lock, SBOMs) carry a signature by the site's key (signing.publicKey), with cosign",
    verifyImageSignature,
    (r) =>
      [
        `verified ${r.signed}: signed with key ${r.key} (${r.signatures} signature${r.signatures === 1 ? "" : "s"})`,
        ...r.attachments.map((a) => `  attachment ${attachmentLabel(a)}: covered`),
        "",
      ].join("\n"),
  );
}
