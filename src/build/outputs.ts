/**
 * `--output` destinations besides the store. OCI outputs are written from the
 * store (same digests as everything else); filesystem outputs (`local`, `tar`)
 * come from the engine itself, by a cached re-run with another exporter.
 */
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import { streamLayoutArchive } from "../oci/archive.ts";
import type { OciStore } from "../oci/store.ts";
import type { PlanOutput } from "../plan/types.ts";
import { withTempDir } from "../util/temp.ts";

const TYPES = ["oci", "oci-dir", "local", "tar"] as const;

/** Parses `--output TYPE:PATH`. */
export function parseOutput(spec: string): PlanOutput {
  const i = spec.indexOf(":");
  const type = spec.slice(0, i);
  const dest = spec.slice(i + 1);
  if (i < 1 || !dest || !(TYPES as readonly string[]).includes(type)) {
    throw new KilnError(`invalid --output "${spec}"`, `use ${TYPES.map((t) => `${t}:PATH`).join(", ")}`);
  }
  return { type: type as PlanOutput["type"], dest: path.resolve(dest) };
}

/** Replaces the exporter of an engine argv (the value after `--output`). */
export function withOutput(argv: string[], exporter: string): string[] {
  const i = argv.indexOf("--output");
  return argv.map((a, j) => (j === i + 1 ? exporter : a));
}

export async function writeStoreOutputs(store: OciStore, digest: string, outputs: PlanOutput[], refName: string): Promise<void> {
  for (const o of outputs) {
    if (o.type === "oci-dir") await store.exportLayout(digest, o.dest, refName);
    if (o.type === "oci") {
      await withTempDir("kiln-oci-", async (tmp) => {
        await store.exportLayout(digest, tmp, refName);
        const partial = `${o.dest}.partial`;
        await streamLayoutArchive(tmp, createWriteStream(partial));
        await fs.rename(partial, o.dest);
      });
    }
  }
}
