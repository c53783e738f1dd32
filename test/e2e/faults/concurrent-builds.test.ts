/**
 * Fault: two `kiln build` processes on the same store and catalog at once.
 * Both must succeed; the store stays whole (every blob hashes to its name,
 * each reference indexed once, no temporary file), the child's lock is valid
 * JSON pinning the parent both built, and the digests equal those of one
 * build alone. Why this holds: blobs land by rename under names unique per
 * write, the index is rewritten whole under an inter-process lock, locks are
 * written atomically, and BuildKit runs the same build once for both.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeDigests, storeProblems } from "../../support/store-check.ts";
import { kiln } from "../helpers.ts";
import { faultWorld, NO_TRACE, startKiln, type World } from "./world.ts";

let world: World;
let alone: Record<string, string>;

beforeAll(async () => {
  world = await faultWorld("concurrent");
  // One build alone, into a store of its own: the digests to expect.
  const r = await kiln(["build", "slow", "--with-parents", "--progress", "plain"], { ...world.env, KILN_STORE: path.join(world.dir, "alone") });
  if (r.code !== 0) throw new Error(`kiln build slow --with-parents failed: ${r.stderr}`);
  alone = await storeDigests(path.join(world.dir, "alone"));
});

afterAll(async () => {
  await fs.rm(world.dir, { recursive: true, force: true });
});

describe("two kiln build processes on one store", () => {
  it("both succeed, the store is whole, and the digests are those of one build alone", async () => {
    expect(Object.keys(alone).sort()).toEqual(["base:image", "slow:image"]);
    // --no-cache: both really build (the engine cache would make the second a copy of the first).
    const args = ["build", "slow", "--with-parents", "--force", "--no-cache", "--progress", "plain"];
    const [a, b] = [startKiln(args, world.env), startKiln(args, world.env)];
    const [ea, eb] = await Promise.all([a.exit, b.exit]);
    expect(ea, a.stderr()).toEqual({ code: 0, signal: null });
    expect(eb, b.stderr()).toEqual({ code: 0, signal: null });
    for (const k of [a, b]) {
      expect(k.stderr()).not.toMatch(NO_TRACE);
      expect(k.stderr()).toMatch(/slow:image: building/);
    }
    expect(await storeProblems(world.store)).toEqual([]);
    expect(await storeDigests(world.store)).toEqual(alone);
    const lock = JSON.parse(await fs.readFile(path.join(world.catalog, "images", "slow", "kiln.lock.json"), "utf8"));
    expect(lock.parents.base.index).toBe(alone["base:image"]);
  });

  it("a third build finds everything up to date", async () => {
    const r = await kiln(["build", "slow", "--with-parents"], world.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/slow:image: up to date/);
    expect(await storeDigests(world.store)).toEqual(alone);
  });
});
