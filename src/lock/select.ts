/** Which images a lock command works on: one by name, or `--all` (those with inputs or a lock). */
import fs from "node:fs/promises";
import { loadCatalog, loadImage, type LoadedImage } from "../definition/catalog.ts";
import { KilnError } from "../errors.ts";
import { INPUT_KINDS, type InputKind } from "./declared.ts";
import { lockPathOf, writeLock } from "./io.ts";
import { hasInputs } from "./refresh.ts";
import { snapshotTimestamp, stableStringify, type Lock } from "./schema.ts";

export async function selectImages(command: string, image: string | undefined, all: boolean | undefined, root: string): Promise<LoadedImage[]> {
  if (image && all) throw new KilnError(`kiln ${command}: give an image or --all, not both`);
  if (image) return [await loadImage(image.split(":")[0]!, root)];
  if (!all) throw new KilnError(`kiln ${command}: no image named`, `kiln ${command} IMAGE, or --all for every image`);
  const images: LoadedImage[] = [];
  for (const img of (await loadCatalog(root)).images.values()) {
    if (hasInputs(img) || (await fs.access(lockPathOf(img.dir)).then(() => true, () => false))) images.push(img);
  }
  return images;
}

export function parseKinds(value: string | undefined): InputKind[] | undefined {
  if (!value) return undefined;
  const kinds = value.split(",").map((k) => k.trim()).filter(Boolean);
  const bad = kinds.filter((k) => !INPUT_KINDS.includes(k as InputKind));
  if (bad.length) throw new KilnError(`--only: unknown input kind ${bad.map((b) => `"${b}"`).join(", ")}`, `choose from ${INPUT_KINDS.join(", ")}`);
  return kinds as InputKind[];
}

export function parseSnapshot(value: string | undefined): string | undefined {
  if (value === undefined || value === "latest") return value;
  if (!snapshotTimestamp.safeParse(value).success) throw new KilnError(`--snapshot: "${value}" is not a snapshot timestamp`, "use a timestamp like 20261129T000000Z, or latest");
  return value;
}

/** Writes the lock only when its bytes change, so an unchanged lock keeps even its mtime. Returns whether it wrote. */
export async function writeLockIfChanged(image: LoadedImage, lock: Lock): Promise<boolean> {
  const current = await fs.readFile(lockPathOf(image.dir), "utf8").catch(() => undefined);
  if (current === stableStringify(lock)) return false;
  await writeLock(image.dir, lock);
  return true;
}
