/** `kiln verify-signature IMAGE`: check a pushed image's digest against the site's public key (cosign). */
import type { Command } from "commander";
import { verifyImageSignature } from "../../signing/signatures.ts";
import { registerSignatureCommand } from "./signature-common.ts";

export function register(program: Command): void {
  registerSignatureCommand(
    program,
    "verify-signature",
    "check that a pushed image's digest carries a signature by the site's key (signing.publicKey), with cosign",
    verifyImageSignature,
    (r) => `verified ${r.signed}: signed with key ${r.key} (${r.signatures} signature${r.signatures === 1 ? "" : "s"})\n`,
  );
}
