/** The CLI's first impression: version, bare help, examples, options where they apply, counts in plain English. */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { describeRun } from "../../src/catalog/report.ts";
import { describeVersion, kilnVersion } from "../../src/cli/version.ts";
import { allOf, counted, partOf } from "../../src/util/words.ts";
import { kiln, REPO } from "../e2e/helpers.ts";

describe("kiln --version", () => {
  it("prints the package version and the commit of this checkout, exit 0", async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(REPO, "package.json"), "utf8")) as { version: string };
    const r = await kiln(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^kiln ${pkg.version.replaceAll(".", "\\.")} \\(commit [0-9a-f]{40}, (clean|dirty: uncommitted changes)\\)\\n$`));
    expect(r.stderr).toBe("");
  });

  it("says so outside a git checkout", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-version-"));
    try {
      await fs.writeFile(path.join(dir, "package.json"), JSON.stringify({ version: "9.8.7" }));
      const v = await kilnVersion(dir);
      expect(v).toEqual({ version: "9.8.7" });
      expect(describeVersion(v)).toBe("kiln 9.8.7 (not run from a git checkout: no commit to report)");
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("names the dirty flag", () => {
    expect(describeVersion({ version: "1.0.0", commit: "a".repeat(40), dirty: true })).toBe(`kiln 1.0.0 (commit ${"a".repeat(40)}, dirty: uncommitted changes)`);
    expect(describeVersion({ version: "1.0.0", commit: "a".repeat(40), dirty: false })).toBe(`kiln 1.0.0 (commit ${"a".repeat(40)}, clean)`);
  });
});

describe("help", () => {
  it("bare kiln prints the help on stdout and exits 0", async () => {
    const r = await kiln([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kiln \[options\] \[command\]/);
    expect(r.stdout).toMatch(/\n  build /);
    expect(r.stdout).toMatch(/-V, --version/);
  });

  it.each(["build", "test", "plan", "lock", "refresh", "status", "ls"])("kiln %s --help ends with examples of that command", async (command) => {
    const r = await kiln([command, "--help"]);
    expect(r.code).toBe(0);
    const examples = r.stdout.split("\nExamples:\n")[1];
    expect(examples).toBeDefined();
    const lines = examples!.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) expect(l).toMatch(new RegExp(`^  kiln ${command}\\b.*  # \\S`));
  });

  it("plan lists only the options that shape a plan", async () => {
    const r = await kiln(["plan", "--help"]);
    for (const option of ["--push", "--load", "--registry", "--progress", "--dry-run"]) expect(r.stdout).not.toContain(option);
    expect(r.stdout).toContain("--platform");
    const build = await kiln(["build", "--help"]);
    for (const option of ["--push", "--load", "--registry", "--progress", "--dry-run", "--platform"]) expect(build.stdout).toContain(option);
  });

  it("plan refuses --push as an unknown option", async () => {
    const r = await kiln(["plan", "hello", "--push"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error: unknown option '--push'/);
  });
});

describe("counts", () => {
  it("agree with their number", () => {
    expect(counted(1, "lock")).toBe("1 lock");
    expect(counted(2, "lock")).toBe("2 locks");
    expect(allOf(1, "image")).toBe("the 1 image");
    expect(allOf(2, "image")).toBe("both images");
    expect(allOf(5, "image")).toBe("all 5 images");
    expect(partOf(1, 1, "lock", ["is", "are"])).toBe("1 of 1 lock is");
    expect(partOf(2, 3, "image", ["needs", "need"])).toBe("2 of 3 images need");
    expect(partOf(1, 3, "image", ["needs", "need"])).toBe("1 of 3 images needs");
  });

  it("a catalog run with one image up to date says so in the singular", () => {
    const report = { startedAt: "", durationMs: 100, jobs: 1, force: false, store: "/s", images: [{ ref: "hello:image", action: "up-to-date" as const, reasons: [], platforms: [] }] };
    expect(describeRun(report).split("\n").at(-2)).toBe("nothing to build: the 1 image is up to date (0.1s)");
  });
});
