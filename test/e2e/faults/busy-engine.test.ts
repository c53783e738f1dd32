/**
 * Fault: the docker daemon is there but does not answer (busy), or is not
 * there at all. A busy daemon is waited for, with a visible line, then
 * reported busy (never "not reachable", never "run setup"); one that
 * recovers is used; a missing one is reported at once with the setup hint.
 * The busy daemon is a socket that accepts and stays silent, then, for the
 * recovering case, hands connections to the real daemon.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stallingSocket, type StallingSocket } from "../../support/stalling-socket.ts";
import { kiln } from "../helpers.ts";
import { faultWorld, NO_TRACE, type World } from "./world.ts";

let world: World;
const sockets: StallingSocket[] = [];

beforeAll(async () => {
  world = await faultWorld("busy");
});

afterAll(async () => {
  for (const s of sockets) await s.close();
  await fs.rm(world.dir, { recursive: true, force: true });
});

async function silent(name: string, opts: Parameters<typeof stallingSocket>[1] = {}): Promise<StallingSocket> {
  const s = await stallingSocket(path.join(world.dir, name), opts);
  sockets.push(s);
  return s;
}

const WAITING = /^kiln: waiting for the docker daemon to answer \(busy \d+ s\)$/m;
const BUSY = /^kiln: the docker daemon is busy: it is running but has not answered for \d+ s; wait and try again; engine\.busyTimeout \(KILN_BUSY_TIMEOUT, now 8 s\) sets how long kiln waits\n$/m;

describe("a busy docker daemon", () => {
  it("is waited for, visibly, then called busy: not missing, no setup hint", async () => {
    const busy = await silent("busy.sock");
    const r = await kiln(["engine", "status"], { ...world.env, DOCKER_HOST: busy.host, KILN_BUSY_TIMEOUT: "8" });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(WAITING);
    expect(r.stderr).toMatch(BUSY);
    expect(r.stderr).not.toMatch(/not reachable|kiln engine setup/);
    expect(r.stderr).not.toMatch(NO_TRACE);
  });

  it("is used once it answers, and the wait is said and counted", async () => {
    const recovering = await silent("recovering.sock", { answerAfterMs: 7000, upstream: "/var/run/docker.sock" });
    const r = await kiln(["engine", "status", "--json"], { ...world.env, DOCKER_HOST: recovering.host, KILN_BUSY_TIMEOUT: "120" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(WAITING);
    expect(r.stderr).toMatch(/^kiln: the docker daemon answered after \d+ s$/m);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ usable: true, state: "usable", driver: "buildx" });
    expect(report.waitedMs).toBeGreaterThan(0);
  });

  it("makes a build say busy and store nothing", async () => {
    const busy = await silent("busy-build.sock");
    const r = await kiln(["build", "base", "--progress", "plain"], { ...world.env, DOCKER_HOST: busy.host, KILN_BUSY_TIMEOUT: "8" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(WAITING);
    expect(r.stderr).toMatch(BUSY);
    expect(r.stderr).not.toMatch(NO_TRACE);
    const index = JSON.parse(await fs.readFile(path.join(world.store, "index.json"), "utf8"));
    expect(index.manifests).toEqual([]);
  });

  it("is never doubled by setup: setup waits, then says busy and starts nothing", async () => {
    const busy = await silent("busy-setup.sock");
    const r = await kiln(["engine", "setup"], { ...world.env, DOCKER_HOST: busy.host, KILN_BUSY_TIMEOUT: "6" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(WAITING);
    expect(r.stderr).toMatch(/^kiln: the docker daemon at unix:\/\/\S+busy-setup\.sock is running but busy \(no answer for \d+ s\); setup does not start a second one: wait, then rerun setup/m);
    expect(r.stderr).not.toMatch(/started dockerd/);
  });
});

describe("a docker daemon that is not running", () => {
  it("is said at once, with the setup hint: no socket, or a socket nobody listens on", async () => {
    // A socket file left by a daemon killed outright: connecting is refused.
    const stale = path.join(world.dir, "stale.sock");
    const holder = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(stale)}, () => console.log("up"))`], { stdio: ["ignore", "pipe", "ignore"] });
    await new Promise((r) => holder.stdout.once("data", r));
    holder.kill("SIGKILL");
    await new Promise((r) => holder.once("close", r));
    for (const [host, why] of [[`unix://${stale}`, "connection refused"], [`unix://${path.join(world.dir, "none.sock")}`, "no socket there"]]) {
      const r = await kiln(["engine", "status"], { ...world.env, DOCKER_HOST: host, KILN_BUSY_TIMEOUT: "300" });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`kiln: no BuildKit engine answers: docker daemon not reachable at ${host} (${why}); run \`kiln engine setup\` (Debian/Ubuntu, root) or set BUILDKIT_HOST to a buildkitd\n`);
    }
  });
});
