/**
 * Writing the site: each file atomically, pages of images no longer in the
 * catalog removed. A folder is only written into when it is empty or holds a
 * site made before (the marker file says so), so `--out` pointed at the
 * wrong folder changes nothing.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import { writeAtomic } from "../oci/store.ts";

export const MARKER = ".kiln-site";

export async function writeSite(outDir: string, files: Map<string, string>): Promise<void> {
  const existing = await fs.readdir(outDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw new KilnError(`cannot read ${outDir}: ${e.message}`);
  });
  if (existing && existing.length && !existing.includes(MARKER)) {
    throw new KilnError(`${outDir} is not empty and holds no site made by kiln`, "give --out an empty or new folder");
  }
  await fs.mkdir(path.join(outDir, "images"), { recursive: true });
  await writeAtomic(path.join(outDir, MARKER), "a site written by `kiln site`; it rewrites this folder\n");
  for (const [rel, content] of files) await writeAtomic(path.join(outDir, rel), content);
  for (const f of await fs.readdir(path.join(outDir, "images"))) {
    if (f.endsWith(".html") && !files.has(`images/${f}`)) await fs.rm(path.join(outDir, "images", f));
  }
}
