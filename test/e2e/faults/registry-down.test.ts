/**
 * Fault: the registry is down when kiln pushes. A private docker-registry on
 * another loopback port (the shared one on :5000 is never touched) is stopped
 * before `--push`: one clear error, nothing reported as pushed, nothing under
 * the tag once the registry is back; the same command run again pushes the
 * stored digest. Both for a single build and for a catalog build, whose
 * retry finds the image up to date and must still push it.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrivateRegistry } from "../../support/private-registry.ts";
import { kiln, registryDigest } from "../helpers.ts";
import { faultWorld, NO_TRACE, type World } from "./world.ts";

let world: World;
let registry: PrivateRegistry;
let stored: string;

beforeAll(async () => {
  world = await faultWorld("registry");
  registry = await PrivateRegistry.start(path.join(world.dir, "registry"), 16000 + (process.pid % 1000));
  const r = await kiln(["build", "base", "--json", "--progress", "quiet"], world.env);
  if (r.code !== 0) throw new Error(`kiln build base failed: ${r.stderr}`);
  stored = JSON.parse(r.stdout).digest;
});

afterAll(async () => {
  await registry?.remove();
  await fs.rm(world.dir, { recursive: true, force: true });
});

const pushArgs = (namespace: string) => ["--push", "--registry", `${registry.address}/${namespace}`, "--set", `insecureRegistries=${registry.address}`];

describe("the registry down during --push", () => {
  it("a single build: one clear error, nothing pushed; the retry pushes the stored digest", async () => {
    await registry.down();
    const failed = await kiln(["build", "base", "--json", "--progress", "quiet", ...pushArgs("single")], world.env);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe(""); // no result, hence no "pushed" entry
    expect(failed.stderr).not.toMatch(NO_TRACE);
    expect(failed.stderr).toMatch(new RegExp(`^kiln: push ${registry.address}/single/kiln-faults/base:1: the registry ${registry.address} does not answer \\(connection refused\\); `, "m"));
    await registry.up();
    expect(await registryDigest(registry.address, "single/kiln-faults/base", "1")).toBeUndefined();
    const retry = await kiln(["build", "base", "--json", "--progress", "quiet", ...pushArgs("single")], world.env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(JSON.parse(retry.stdout).pushed).toEqual([{ ref: `${registry.address}/single/kiln-faults/base:1`, digest: stored }]);
    expect(await registryDigest(registry.address, "single/kiln-faults/base", "1")).toBe(stored);
  });

  it("a catalog build: the failure is in the report, and the retry pushes the image it finds up to date", async () => {
    await registry.down();
    const report = path.join(world.dir, "report.json");
    const failed = await kiln(["build", "base", "--with-parents", "--report", report, ...pushArgs("catalog")], world.env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).not.toMatch(NO_TRACE);
    const entry = JSON.parse(await fs.readFile(report, "utf8")).images[0];
    expect(entry).toMatchObject({ ref: "base:image", action: "failed" });
    expect(entry.error).toContain("does not answer");
    expect(entry.pushed ?? []).toEqual([]);
    await registry.up();
    const retry = await kiln(["build", "base", "--with-parents", "--report", report, ...pushArgs("catalog")], world.env);
    expect(retry.code, retry.stderr).toBe(0);
    const again = JSON.parse(await fs.readFile(report, "utf8")).images[0];
    expect(again).toMatchObject({ ref: "base:image", action: "up-to-date", pushed: [{ ref: `${registry.address}/catalog/kiln-faults/base:1`, digest: stored }] });
    expect(await registryDigest(registry.address, "catalog/kiln-faults/base", "1")).toBe(stored);
  });
});
