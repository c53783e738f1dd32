/**
 * `kiln test` client scenarios on the real engine: the router under test,
 * hardened, proxies a real HTTP exchange from a client container to an
 * upstream fixture on a private network, on amd64 and arm64 (qemu), keeps its
 * /data across a restart; a broken proof fails naming the rule, scenario and
 * step; nothing it made is left behind, also after SIGINT.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OciStore } from "../../src/oci/store.ts";
import { build, buildBase, familyEnv } from "./base-family.ts";
import { mustRun, REPO, type CliResult } from "./helpers.ts";

const FIXTURES = path.join(REPO, "test/fixtures/clients");
const family = familyEnv();
let dir: string;

/** `bin/kiln` as a child whose pid names everything it makes (`kiln-test-<pid>-...`). */
function kilnChild(args: string[], catalog: string): { pid: number; done: Promise<CliResult> } {
  const env = { ...process.env, KILN_CONFIG: path.join(dir, "config.json"), KILN_STORE: family.KILN_STORE, KILN_CACHE_DIR: family.KILN_CACHE_DIR, KILN_CATALOG: path.join(FIXTURES, catalog) };
  const child = spawn(path.join(REPO, "bin", "kiln"), args, { env, cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
  return { pid: child.pid!, done };
}

/** Containers, networks, volumes and image tags a kiln process left in the engine. */
async function leftovers(pid: number): Promise<string[]> {
  const names = async (args: string[]) => (await mustRun("docker", args)).split("\n").filter(Boolean);
  const ours = (n: string) => n.startsWith(`kiln-test-${pid}-`) || new RegExp(`^docker\\.io/kiln-test/.*-${pid}-[0-9a-f]+$`).test(n);
  return [
    ...(await names(["ps", "-a", "--format", "{{.Names}}"])),
    ...(await names(["network", "ls", "--format", "{{.Name}}"])),
    ...(await names(["volume", "ls", "--format", "{{.Name}}"])),
    ...(await names(["images", "--format", "{{.Repository}}:{{.Tag}}"])).map((i) => (i.startsWith("kiln-test/") ? `docker.io/${i}` : i)),
  ].filter(ours);
}

const marks = (out: string) => out.split("\n").filter((l) => /^ {2}[✓✗] client-test/.test(l));

/** The check lines printed under one subject (a subject's header may come more than once). */
function linesOf(out: string, subject: string): string {
  let current = "";
  return out
    .split("\n")
    .filter((l) => (l.startsWith("  ") ? current === subject : ((current = l), false)))
    .join("\n");
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-checks-clients-"));
  await fs.writeFile(path.join(dir, "config.json"), "{}\n");
  // The family store keeps what other e2e files built; build only what is missing.
  const store = await OciStore.open(family.KILN_STORE!);
  if (!(await store.resolve("base:runtime")) || !(await store.resolve("router:image"))) {
    await buildBase(family);
    await build(family, "router");
  }
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("kiln test: client scenarios", () => {
  it("proves the router from a real client on both platforms: fixture, files, restart on the same volume, mounts; JUnit keeps the output", async () => {
    const junit = path.join(dir, "router.xml");
    const run = kilnChild(["test", "router", "--junit", junit], "proof");
    const r = await run.done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of ["linux/amd64", "linux/arm64"]) {
      const section = linesOf(r.stdout, `router:image ${platform}`) + "\n";
      expect(marks(section).map((l) => l.split(":")[0]!.trim())).toEqual([
        "✓ client-test proxy / setup",
        "✓ client-test proxy / get through the router",
        "✓ client-test proxy / service on the platform under test, files read-only",
        "✓ client-test proxy / write state",
        "✓ client-test proxy / state survives a restart",
        "✓ client-test proxy / proxies after the restart",
        "✓ client-test proxy / test folder and store mounted",
      ]);
      expect(section).toMatch(/✓ client-test proxy \/ setup: upstream ready after [0-9.]+s, service healthy after [0-9.]+s\n/);
      expect(section).toMatch(/✓ client-test proxy \/ state survives a restart: exit 0, output has 1 expected string\(s\) \(after a restart: service healthy after [0-9.]+s\)\n/);
    }
    const xml = await fs.readFile(junit, "utf8");
    expect(xml).toContain('<testcase classname="router:image linux/arm64" name="client-test: proxy / get through the router"');
    expect(xml).toContain("hello from the upstream fixture");
    expect(xml).toContain("runs on linux/arm64\ngreetings from the definition folder\ngreeting is read-only\n");
    expect(await leftovers(run.pid)).toEqual([]);
  });

  it("fails a broken proof naming the rule, the scenario, the step and the tail of its output, and cleans up", async () => {
    const run = kilnChild(["test", "router", "--platform", "linux/amd64"], "broken");
    const r = await run.done;
    expect(r.code).toBe(1);
    const m = marks(r.stdout);
    expect(m).toHaveLength(2);
    expect(m[0]).toMatch(/^ {2}✓ client-test proxy \/ setup: upstream ready after /);
    expect(m[1]).toBe('  ✗ client-test proxy / get through the router: output lacks "hello from the upstream fixture"');
    expect(r.stdout).toContain(
      "      upstream refuses to serve\n      not run: service on the platform under test, files read-only\n",
    );
    expect(r.stdout).toMatch(/FAILED 1 of \d+ checks: router:image linux\/amd64 client-test \(proxy \/ get through the router\)\n$/);
    expect(await leftovers(run.pid)).toEqual([]);
  });

  it("removes the network, volumes, containers and tags it made when interrupted", async () => {
    const run = kilnChild(["test", "router", "--platform", "linux/amd64"], "proof");
    // Interrupt once the scenario's service container exists.
    for (let i = 0; i < 240 && !(await leftovers(run.pid)).some((n) => n.endsWith("-service")); i++) await new Promise((res) => setTimeout(res, 500));
    expect((await leftovers(run.pid)).some((n) => n.endsWith("-service"))).toBe(true);
    process.kill(run.pid, "SIGINT");
    await run.done;
    expect(await leftovers(run.pid)).toEqual([]);
  });
});
