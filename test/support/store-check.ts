/**
 * Is a store whole? index.json parses, every reference appears once, every
 * blob an indexed image needs exists and hashes to its name, and no
 * temporary file is left. Returns the problems found (none: valid).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { OciStore, REF_ANNOTATION } from "../../src/oci/store.ts";
import { hashFile } from "../../src/util/cas.ts";

export async function storeProblems(dir: string): Promise<string[]> {
  const problems: string[] = [];
  let index;
  try {
    index = JSON.parse(await fs.readFile(path.join(dir, "index.json"), "utf8")) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  } catch (e) {
    return [`index.json: ${(e as Error).message}`];
  }
  const store = await OciStore.open(dir);
  const refs = index.manifests.map((m) => m.annotations?.[REF_ANNOTATION] ?? "(no ref)");
  for (const r of new Set(refs)) if (refs.filter((x) => x === r).length > 1) problems.push(`${r} is indexed more than once`);
  const checked = new Set<string>();
  for (const m of index.manifests) {
    let blobs: string[];
    try {
      blobs = await store.blobsOf(m.digest);
    } catch (e) {
      problems.push(`${m.annotations?.[REF_ANNOTATION]}: ${(e as Error).message}`);
      continue;
    }
    for (const b of blobs) {
      if (checked.has(b)) continue;
      checked.add(b);
      const hex = await hashFile(store.blobPath(b)).catch(() => "missing");
      if (`sha256:${hex}` !== b) problems.push(`blob ${b}: ${hex === "missing" ? "missing" : `hashes to ${hex}`}`);
    }
  }
  const temporaries = [...(await fs.readdir(dir)), ...(await fs.readdir(path.join(dir, "blobs", "sha256")))].filter((f) => f.includes(".tmp-"));
  for (const t of temporaries) problems.push(`temporary file left: ${t}`);
  return problems;
}

/** ref -> index digest, for comparing two stores. */
export async function storeDigests(dir: string): Promise<Record<string, string>> {
  const store = await OciStore.open(dir);
  return Object.fromEntries((await store.list()).map((i) => [i.ref ?? "?", i.digest]));
}
