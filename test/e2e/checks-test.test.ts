/**
 * `kiln test` on the real engine: a clean image passes every check (health,
 * probes, metrics, command tests), each broken fixture fails naming its rule,
 * failures show what went wrong, and nothing is left behind in the engine.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokenCatalog } from "../support/broken-catalog.ts";
import { kiln, mustRun, tempEnv } from "./helpers.ts";

let dir: string;
let env: NodeJS.ProcessEnv;

const SICK = {
  "images/sick/image.ts": `export default {
  name: "sick", category: "experimental", description: "never turns healthy", platforms: ["linux/amd64"],
  metadata: { licenses: "GPL-2.0-only" },
  runtime: { ports: [8080], tests: [{ name: "wrong output", command: ["echo", "actual"], outputContains: ["expected"] }] },
};
`,
  "images/sick/Dockerfile": `FROM scratch
COPY --chmod=0755 busybox /bin/busybox
USER 2000
HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ["/bin/busybox", "sh", "-c", "echo backend not ready; exit 1"]
ENTRYPOINT ["/bin/busybox"]
CMD ["sleep", "3600"]
`,
};

async function leftovers(): Promise<string> {
  const containers = await mustRun("docker", ["ps", "-a", "--filter", "label=dev.kiln.test=1", "--format", "{{.Names}}"]);
  const images = await mustRun("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
  return [containers.trim(), ...images.split("\n").filter((i) => i.startsWith("kiln-test/"))].filter(Boolean).join("\n");
}

beforeAll(async () => {
  ({ dir, env } = await tempEnv("checks-test"));
  const catalog = await brokenCatalog(path.join(dir, "catalog"), SICK);
  env = { ...env, KILN_CATALOG: catalog };
  for (const image of ["control", "runs-as-root", "setuid-file", "no-healthcheck", "sick"]) {
    const r = await kiln(["build", image, "--progress", "quiet"], env);
    if (r.code !== 0) throw new Error(`kiln build ${image} failed: ${r.stderr}`);
  }
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("kiln test", () => {
  it("passes a clean image: policy, health, probes, metrics, command tests; writes JUnit", async () => {
    const junit = path.join(dir, "reports", "control.xml");
    const r = await kiln(["test", "control", "--junit", junit], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const marks = r.stdout.split("\n").filter((l) => /^ {2}[✓✗]/.test(l)).map((l) => l.trim().split(":")[0]);
    expect(marks).toEqual([
      "✓ user-not-root",
      "✓ no-setuid",
      "✓ no-compilers",
      "✓ no-package-caches",
      "✓ healthcheck-declared",
      "✓ oci-labels",
      "✓ size-budget",
      "✓ healthy",
      "✓ hardened-run",
      "✓ probe-http index page",
      "✓ probe-metrics metrics",
      "✓ command-test echo",
      "✓ command-test root is read-only",
      "✓ command-test runs as 2000",
    ]);
    expect(r.stdout).toMatch(/probe-metrics metrics: GET http:\/\/[0-9.]+:8080\/metrics: 2 samples of 2 metric families/);
    expect(r.stdout).toContain("passed 14 checks");
    const xml = await fs.readFile(junit, "utf8");
    expect(xml).toContain('<testsuites name="kiln test" tests="14" failures="0">');
    expect(await leftovers()).toBe("");
  });

  it.each([
    ["runs-as-root", "user-not-root", "the image sets no user: it runs as root"],
    ["setuid-file", "no-setuid", "1 setuid/setgid file"],
    ["no-healthcheck", "healthcheck-declared", "the image declares no HEALTHCHECK"],
  ])("fails %s naming rule %s", async (image, rule, message) => {
    const r = await kiln(["test", image], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`  ✗ ${rule}: ${message}`);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("  ✗"))).toHaveLength(1);
    expect(r.stdout).toContain(`FAILED 1 of `);
    expect(r.stdout).toMatch(new RegExp(`checks: ${image}:image linux/amd64 ${rule}\\n$`));
  });

  it("shows the health log and the command output on failures, and still cleans up", async () => {
    const r = await kiln(["test", "sick", "--junit", path.join(dir, "sick.xml")], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("  ✗ healthy: the health check reports unhealthy");
    expect(r.stdout).toContain("health check exit 1: backend not ready");
    expect(r.stdout).toContain('  ✗ command-test wrong output: output lacks "expected"');
    expect(r.stdout).toMatch(/FAILED 2 of \d+ checks: sick:image linux\/amd64 healthy, sick:image linux\/amd64 command-test \(wrong output\)/);
    const xml = await fs.readFile(path.join(dir, "sick.xml"), "utf8");
    expect(xml).toContain('type="healthy"');
    expect(await leftovers()).toBe("");
  });

  it("tests only what is asked, and says so when a platform is missing", async () => {
    const r = await kiln(["test", "control", "--static-only"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("healthy");
    const arm = await kiln(["test", "control", "--platform", "linux/arm64"], env);
    expect(arm.code).toBe(1);
    expect(arm.stderr).toMatch(/^kiln: control:image has no linux\/arm64 image in the store \(it has linux\/amd64\); build it: kiln build control:image --platform linux\/arm64\n$/);
  });
});
