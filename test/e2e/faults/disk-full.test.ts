/**
 * Fault: the store's disk is full. The store lives on a 4 MB tmpfs; an
 * image is built into it, the rest of the space is filled, and a build
 * whose layer does not fit is tried, alone and as a catalog build: one clear
 * error, no stack trace, the index byte for byte as before, every blob whole,
 * no temporary file, and the earlier image still loads and runs (kiln test).
 * With room again, the same build succeeds.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeDigests, storeProblems } from "../../support/store-check.ts";
import { kiln, mustRun } from "../helpers.ts";
import { faultWorld, NO_TRACE, type World } from "./world.ts";

let world: World;
let disk: string;
let env: NodeJS.ProcessEnv;
let store: string;

beforeAll(async () => {
  world = await faultWorld("disk-full");
  disk = path.join(world.dir, "disk");
  await fs.mkdir(disk);
  await mustRun("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", disk]);
  store = path.join(disk, "store");
  env = { ...world.env, KILN_STORE: store };
  // Incompressible: the filler's layer is as big as the file (2 MB).
  await fs.writeFile(path.join(world.catalog, "images", "filler", "blob.bin"), randomBytes(2 * 1024 * 1024));
  for (const args of [["build", "base", "--progress", "quiet"], ["lock", "filler"]]) {
    const r = await kiln(args, env);
    if (r.code !== 0) throw new Error(`kiln ${args.join(" ")} failed: ${r.stderr}`);
  }
});

afterAll(async () => {
  if (disk) await mustRun("umount", [disk]).catch(() => undefined);
  await fs.rm(world.dir, { recursive: true, force: true });
});

/** Fills the disk, then frees `leaveBytes`: room for kiln's small records, not for a 2 MB layer. */
async function fill(leaveBytes: number): Promise<string> {
  const ballast = path.join(disk, "ballast");
  const fh = await fs.open(ballast, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) await fh.write(chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
  } finally {
    await fh.close();
  }
  const { size } = await fs.stat(ballast);
  await fs.truncate(ballast, size - leaveBytes);
  return ballast;
}

describe("the store's disk full", () => {
  let before: { index: string; digests: Record<string, string> };

  it("a build that does not fit: one clear error, the store as it was", async () => {
    before = { index: await fs.readFile(path.join(store, "index.json"), "utf8"), digests: await storeDigests(store) };
    expect(Object.keys(before.digests)).toEqual(["base:image"]);
    await fill(128 * 1024);
    const r = await kiln(["build", "filler", "--progress", "quiet"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(NO_TRACE);
    expect(r.stderr).toBe(
      `kiln: the store ${store} is full: filler:image was not stored: no space left on device; the store is unchanged and its earlier images are intact; free some space, or point the store (KILN_STORE) or the cache (KILN_CACHE_DIR) at a larger disk, and run again\n`,
    );
    expect(await fs.readFile(path.join(store, "index.json"), "utf8")).toBe(before.index);
    expect(await storeProblems(store)).toEqual([]);
  });

  it("the same in a catalog build: the image fails with that line, not a stack trace", async () => {
    const r = await kiln(["build", "filler", "--with-parents"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(NO_TRACE);
    expect(r.stderr).toMatch(new RegExp(`^kiln: 1 of 2 images not built: filler:image \\(filler:image: the store ${store} is full: filler:image was not stored: no space left on device; `, "m"));
    expect(await fs.readFile(path.join(store, "index.json"), "utf8")).toBe(before.index);
    expect(await storeProblems(store)).toEqual([]);
  });

  it("the earlier image still loads and runs", async () => {
    const r = await kiln(["test", "base"], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("✓ command-test echo");
    expect(await storeDigests(store)).toEqual(before.digests);
  });

  it("with room again, the build succeeds and the store is whole", async () => {
    await fs.rm(path.join(disk, "ballast"));
    const r = await kiln(["build", "filler", "--progress", "quiet"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(await storeDigests(store)).sort()).toEqual(["base:image", "filler:image"]);
    expect(await storeProblems(store)).toEqual([]);
  });
});
