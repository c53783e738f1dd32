/** Reading and writing lock files: validated on read, atomic and stable on write. */
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import { writeAtomic } from "../oci/store.ts";
import { lockSchema, stableStringify, type Lock } from "./schema.ts";

export const LOCK_FILE = "kiln.lock.json";

export function lockPathOf(imageDir: string): string {
  return path.join(imageDir, LOCK_FILE);
}

/** The image's lock, or undefined when it has none yet. A corrupt lock is an error, never ignored. */
export async function readLock(imageDir: string): Promise<Lock | undefined> {
  const file = lockPathOf(imageDir);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new KilnError(`${file} is not valid JSON (${(e as Error).message})`, `restore it from git or regenerate it with \`kiln lock ${path.basename(imageDir)}\``);
  }
  const parsed = lockSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new KilnError(`${file}: ${issue.path.join(".") || "(root)"}: ${issue.message}`, `restore it from git or regenerate it with \`kiln lock ${path.basename(imageDir)}\``);
  }
  return parsed.data;
}

/** Writes the lock atomically (temp file + rename): readers see the old or the new lock, never half of one. */
export async function writeLock(imageDir: string, lock: Lock): Promise<void> {
  await writeAtomic(lockPathOf(imageDir), stableStringify(lockSchema.parse(lock)));
}
