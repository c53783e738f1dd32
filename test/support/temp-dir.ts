/**
 * Temporary folders for tests, removed when the test file is done: importing
 * this module registers the cleanup for the importing file.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

const made: string[] = [];

afterAll(async () => {
  await Promise.all(made.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

/** A fresh folder under the temp dir, named `<prefix>XXXXXX` as mkdtemp does. */
export async function tempDir(prefix = "kiln-test-"): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
