/**
 * Fault: the docker daemon restarts in the middle of a catalog build. The
 * daemon is a private one (its own data root, exec root, containerd and
 * socket; the shared daemon is never touched), restarted while the child's
 * 12-second step runs. Expected: one clear error line, the parent kept, no
 * partial child in the store, the index whole, no work or secrets folder
 * left; and once the daemon is back, the same command builds the child with
 * the digests of a build that was never interrupted.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leftovers, NOTHING } from "../../support/leftovers.ts";
import { PrivateDockerd } from "../../support/private-dockerd.ts";
import { storeDigests, storeProblems } from "../../support/store-check.ts";
import { kiln } from "../helpers.ts";
import { faultWorld, NO_TRACE, startKiln, type World } from "./world.ts";

let world: World;
let dockerd: PrivateDockerd;
let env: NodeJS.ProcessEnv;
let reference: Record<string, string>;
/** The shared daemon's bridge: a second daemon must leave it alone. */
const docker0 = () => fs.access("/sys/class/net/docker0").then(() => true, () => false);
let hadDocker0: boolean;

beforeAll(async () => {
  world = await faultWorld("restart");
  hadDocker0 = await docker0();
  dockerd = await PrivateDockerd.start(path.join(world.dir, "dockerd"));
  env = { ...world.env, DOCKER_HOST: dockerd.host };
  // The same catalog built once without a fault, on the same daemon, into a store of its own.
  const r = await kiln(["build", "slow", "--with-parents", "--progress", "plain"], { ...env, KILN_STORE: path.join(world.dir, "reference") });
  if (r.code !== 0) throw new Error(`reference build failed: ${r.stderr}`);
  reference = await storeDigests(path.join(world.dir, "reference"));
});

afterAll(async () => {
  await dockerd?.remove();
  await fs.rm(world.dir, { recursive: true, force: true });
});

describe("the docker daemon restarted in the middle of a catalog build", () => {
  it("fails with one clear line and leaves the store whole, without the child", async () => {
    expect(Object.keys(reference).sort()).toEqual(["base:image", "slow:image"]);
    const k = startKiln(["build", "slow", "--with-parents", "--no-cache", "--progress", "plain"], env);
    await k.waitFor(/slow:image: building/);
    await k.waitFor(/\[context base\]|RUN --network=none/);
    await new Promise((r) => setTimeout(r, 2000)); // the RUN step sleeps now
    await dockerd.restart();
    const exit = await k.exit;
    expect(exit.code).toBe(1);
    expect(k.stderr()).not.toMatch(NO_TRACE);
    expect(k.stderr()).toMatch(/^kiln: 1 of 2 images not built: slow:image \(slow:image: build of slow:image failed: the engine went away in the middle of it \(the daemon stopped or restarted\): .+; nothing was stored, loaded or pushed; run the same command again once `kiln engine status` says the engine is usable\)$/m);
    expect(await storeProblems(world.store)).toEqual([]);
    expect(await storeDigests(world.store)).toEqual({ "base:image": reference["base:image"] });
    const left = await leftovers({ pid: k.pid, tmpdir: world.tmpdir, cacheDir: world.cacheDir, env });
    // tsx keeps its compile cache in $TMPDIR: the loader's, not kiln's.
    expect({ ...left, temp: left.temp.filter((e) => !e.startsWith("tsx-")) }).toEqual(NOTHING);
  });

  it("once the daemon is back, the same command builds the child with the reference digests", async () => {
    // --no-cache: the restarted engine really runs the step again.
    const r = await kiln(["build", "slow", "--with-parents", "--no-cache", "--progress", "plain"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/base:image: up to date/);
    expect(await storeDigests(world.store)).toEqual(reference);
    expect(await storeProblems(world.store)).toEqual([]);
  });

  it("leaves the shared daemon's bridge interface alone", async () => {
    expect(hadDocker0).toBe(true);
    expect(await docker0()).toBe(true);
  });
});
