/**
 * Fault: kiln interrupted in the middle of a build, a test and a verify,
 * by Ctrl-C (SIGINT to its process group, as a terminal sends it) and by a
 * SIGTERM to kiln alone (what `timeout` or a CI runner sends). Counted before,
 * during and after, on the real engine: containers, networks, volumes and
 * image tags kiln made (their names carry its pid), its temp folder (load
 * and push layouts, verify stores, secrets folders), its work folders, and
 * the processes of its group (the engine client must not build on, orphaned).
 * During: there is something to leave behind. After: nothing is.
 */
import fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leftovers, NOTHING, type Leftovers } from "../../support/leftovers.ts";
import { kiln } from "../helpers.ts";
import { faultWorld, startKiln, type Running, type World } from "./world.ts";

let world: World;

beforeAll(async () => {
  world = await faultWorld("interrupts");
  for (const args of [["build", "base"], ["build", "control"], ["lock", "slow"]]) {
    const r = await kiln([...args, ...(args[0] === "build" ? ["--progress", "quiet"] : [])], world.env);
    if (r.code !== 0) throw new Error(`kiln ${args.join(" ")} failed: ${r.stderr}`);
  }
});

afterAll(async () => {
  await fs.rm(world.dir, { recursive: true, force: true });
});

/** tsx keeps its compile cache in $TMPDIR: a cache of the loader, not something kiln leaves. */
async function counted(pid?: number): Promise<Leftovers> {
  const l = await leftovers({ pid, tmpdir: world.tmpdir, cacheDir: world.cacheDir });
  return { ...l, temp: l.temp.filter((e) => !e.startsWith("tsx-")) };
}

/** Polls until `ready` holds for the counts of the running kiln (kiln must not exit first). */
async function during(k: Running, ready: (l: Leftovers) => boolean): Promise<Leftovers> {
  let exited = false;
  void k.exit.then(() => (exited = true));
  const until = Date.now() + 240_000;
  while (Date.now() < until && !exited) {
    const l = await counted(k.pid);
    if (ready(l)) return l;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`kiln ${exited ? "exited" : "was still running"} before the moment to interrupt it; stderr:\n${k.stderr()}`);
}

/** Sends `signal` to kiln's group (Ctrl-C) or to kiln alone; kiln must still be running. */
function interrupt(k: Running, signal: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -k.pid : k.pid, signal);
  } catch (e) {
    throw new Error(`kiln was gone before ${signal} (${(e as Error).message}); stdout:\n${k.stdout()}\nstderr:\n${k.stderr()}`);
  }
}

/**
 * The counts once kiln is gone. The engine client got the signal too (from the
 * terminal, or from kiln) and cancels its build first: it is given 15 s to go.
 */
async function after(k: Running): Promise<Leftovers> {
  let left = await counted(k.pid);
  for (let i = 0; i < 60 && left.processes.length; i++) {
    await new Promise((r) => setTimeout(r, 250));
    left = await counted(k.pid);
  }
  return left;
}

const engineClient = (l: Leftovers) => l.processes.some((p) => /docker-buildx|docker$/.test(p));

describe("interrupted with Ctrl-C (SIGINT to kiln's process group)", () => {
  it("in the middle of a build: no work folder, secrets folder or engine client is left", async () => {
    expect(await counted()).toEqual(NOTHING);
    const k = startKiln(["build", "slow", "--no-cache", "--progress", "plain"], world.env);
    const mid = await during(k, (l) => l.work.length > 0 && l.secrets.length > 0 && engineClient(l));
    await new Promise((r) => setTimeout(r, 1500)); // the RUN step is sleeping now
    interrupt(k, "SIGINT", true);
    expect(await k.exit).toEqual({ code: null, signal: "SIGINT" });
    expect(mid.work).toHaveLength(1);
    expect(await after(k)).toEqual(NOTHING);
    const index = JSON.parse(await fs.readFile(`${world.store}/index.json`, "utf8"));
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations["org.opencontainers.image.ref.name"])).not.toContain("slow:image");
  });

  it("in the middle of kiln test: no container, image tag or load layout is left", async () => {
    expect(await counted()).toEqual(NOTHING);
    const k = startKiln(["test", "control"], world.env);
    const mid = await during(k, (l) => l.containers.length > 0);
    interrupt(k, "SIGINT", true);
    const exit = await k.exit;
    expect(exit.signal ?? exit.code).toBe("SIGINT");
    expect(mid.tags).toHaveLength(1);
    expect(await after(k)).toEqual(NOTHING);
  });

  it("in the middle of kiln verify: no fresh store, work folder or engine client is left", async () => {
    expect(await counted()).toEqual(NOTHING);
    const k = startKiln(["verify", "slow"], world.env);
    const mid = await during(k, (l) => l.temp.some((e) => e.startsWith("kiln-verify-slow-")) && l.work.length > 0 && engineClient(l));
    await new Promise((r) => setTimeout(r, 1500));
    interrupt(k, "SIGINT", true);
    expect(await k.exit).toEqual({ code: null, signal: "SIGINT" });
    expect(mid.temp.filter((e) => e.startsWith("kiln-verify-slow-"))).toHaveLength(2);
    expect(await after(k)).toEqual(NOTHING);
  });
});

describe("stopped with SIGTERM sent to kiln alone", () => {
  it("in the middle of a build: kiln stops the engine client it started and cleans up", async () => {
    expect(await counted()).toEqual(NOTHING);
    const k = startKiln(["build", "slow", "--no-cache", "--progress", "plain"], world.env);
    await during(k, (l) => l.work.length > 0 && engineClient(l));
    await new Promise((r) => setTimeout(r, 1500));
    interrupt(k, "SIGTERM", false);
    expect(await k.exit).toEqual({ code: null, signal: "SIGTERM" });
    expect(await after(k)).toEqual(NOTHING);
  });
});
