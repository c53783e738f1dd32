/**
 * The catalog end to end on the real engine: a parent image FROM scratch with
 * a small file, two children FROM it (by digest from the store), and an
 * unrelated image. Incremental builds, staleness and the run report.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { kiln, tempEnv, writeCatalog } from "./helpers.ts";

let root: string;
let env: NodeJS.ProcessEnv;

const image = (name: string, parents: Record<string, string> = {}) =>
  `export default ${JSON.stringify({ name, category: "experimental", description: `test image ${name}`, platforms: ["linux/amd64", "linux/arm64"], parents })};\n`;

interface Report {
  images: { ref: string; action: string; reasons: string[]; digest?: string; platforms: { platform: string; layers: number; compressedBytes: number; uncompressedBytes: number }[] }[];
}

async function readReport(file: string): Promise<Record<string, Report["images"][number]>> {
  const report = JSON.parse(await fs.readFile(file, "utf8")) as Report;
  return Object.fromEntries(report.images.map((i) => [i.ref, i]));
}

/** ref -> "up to date" / "stale" / "never built", from `kiln status --json`. */
async function status(): Promise<Record<string, { status: string; reasons: string[] }>> {
  const r = await kiln(["status", "--json"], env);
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries((JSON.parse(r.stdout) as { ref: string; status: string; reasons: string[] }[]).map((s) => [s.ref, { status: s.status, reasons: s.reasons }]));
}

beforeAll(async () => {
  const t = await tempEnv("catalog");
  root = path.join(t.dir, "catalog");
  env = { ...t.env, KILN_CATALOG: root };
  await writeCatalog(root, {
    "images/base/image.ts": image("base"),
    "images/base/Dockerfile": "FROM scratch\nCOPY hello.txt /hello.txt\n",
    "images/base/hello.txt": "hello from base\n",
    "images/app1/image.ts": image("app1", { base: "base" }),
    "images/app1/Dockerfile": "FROM base\nCOPY app.txt /app1.txt\n",
    "images/app1/app.txt": "app one\n",
    "images/app2/image.ts": image("app2", { base: "base" }),
    "images/app2/Dockerfile": "FROM base\nCOPY app.txt /app2.txt\n",
    "images/app2/app.txt": "app two\n",
    "images/solo/image.ts": image("solo"),
    "images/solo/Dockerfile": "FROM scratch\nCOPY solo.txt /solo.txt\n",
    "images/solo/solo.txt": "alone\n",
  });
});

describe("kiln build --all / kiln status", () => {
  it("builds the catalog parents first, then a second run builds nothing and says so", async () => {
    const reportFile = path.join(root, "first.json");
    const first = await kiln(["build", "--all", "--jobs", "2", "--progress", "quiet", "--report", reportFile], env);
    expect(first.code, first.stderr).toBe(0);
    const report = await readReport(reportFile);
    expect(Object.keys(report).sort()).toEqual(["app1:image", "app2:image", "base:image", "solo:image"]);
    for (const img of Object.values(report)) expect(img.action).toBe("built");
    expect(report["base:image"]!.reasons).toEqual(["never built"]);
    // Per platform: the child has its parent's layer plus its own.
    const base = report["base:image"]!.platforms;
    const app1 = report["app1:image"]!.platforms;
    expect(base.map((p) => p.platform)).toEqual(["linux/amd64", "linux/arm64"]);
    expect(base[0]).toMatchObject({ layers: 1 });
    expect(app1[0]).toMatchObject({ layers: 2 });
    expect(base[0]!.compressedBytes).toBeGreaterThan(0);
    // A tar of one small file: header blocks plus the padded content, at least 1 KiB.
    expect(base[0]!.uncompressedBytes).toBeGreaterThanOrEqual(1024);
    expect(first.stdout).toMatch(/^base:image\s+linux\/amd64\s+built/m);
    expect(first.stdout).toMatch(/4 built, 0 up to date/);

    const second = await kiln(["build", "--all", "--progress", "quiet"], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/nothing to build: all 4 images are up to date/);
    expect(second.stderr).not.toMatch(/building/);

    const s = await status();
    expect(Object.values(s).map((x) => x.status)).toEqual(["up-to-date", "up-to-date", "up-to-date", "up-to-date"]);
  });

  it("a changed file in the parent's context makes it and its descendants stale, and only those are rebuilt", async () => {
    const before = await readReport(path.join(root, "first.json"));
    await fs.writeFile(path.join(root, "images/base/hello.txt"), "hello again\n");

    const s = await status();
    expect(s["base:image"]).toEqual({ status: "stale", reasons: ["context file hello.txt"] });
    expect(s["app1:image"]).toEqual({ status: "stale", reasons: ["parent base:image is stale"] });
    expect(s["app2:image"]).toEqual({ status: "stale", reasons: ["parent base:image is stale"] });
    expect(s["solo:image"]!.status).toBe("up-to-date");
    const check = await kiln(["status", "--check"], env);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^base:image\s+stale\s+[0-9a-f]{12}\s+context file hello.txt$/m);

    const reportFile = path.join(root, "second.json");
    const r = await kiln(["build", "--all", "--progress", "quiet", "--report", reportFile], env);
    expect(r.code, r.stderr).toBe(0);
    const after = await readReport(reportFile);
    expect(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v.action]))).toEqual({
      "base:image": "built",
      "app1:image": "built",
      "app2:image": "built",
      "solo:image": "up-to-date",
    });
    expect(after["base:image"]!.digest).not.toBe(before["base:image"]!.digest);
    expect(after["app1:image"]!.digest).not.toBe(before["app1:image"]!.digest);
    expect(after["app1:image"]!.reasons[0]).toMatch(/^parent base digest changed/);
    expect(after["solo:image"]!.digest).toBe(before["solo:image"]!.digest);
    expect(Object.values(await status()).every((x) => x.status === "up-to-date")).toBe(true);
  });

  it("--force rebuilds one image with its parents; the rebuild is reproducible", async () => {
    const before = await readReport(path.join(root, "second.json"));
    const reportFile = path.join(root, "forced.json");
    const r = await kiln(["build", "app2", "--with-parents", "--force", "--progress", "quiet", "--report", reportFile], env);
    expect(r.code, r.stderr).toBe(0);
    const forced = await readReport(reportFile);
    expect(Object.keys(forced)).toEqual(["base:image", "app2:image"]);
    expect(forced["base:image"]!.reasons).toEqual(["forced"]);
    expect(forced["app2:image"]!.digest).toBe(before["app2:image"]!.digest);
  });

  it("kiln ls shows the catalog with current digests", async () => {
    const r = await kiln(["ls", "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    const images = JSON.parse(r.stdout) as { name: string; targets: Record<string, { digest?: string }> }[];
    expect(images.map((i) => i.name)).toEqual(["app1", "app2", "base", "solo"]);
    const second = await readReport(path.join(root, "second.json"));
    expect(images.find((i) => i.name === "base")!.targets.image!.digest).toBe(second["base:image"]!.digest);
  });

  it("a missing parent or a cycle is reported before anything builds", async () => {
    await writeCatalog(root, { "images/app1/image.ts": image("app1", { base: "bsae" }) });
    const missing = await kiln(["build", "--all"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('kiln: app1:image needs parent "bsae" which is not in the catalog (did you mean base?); `kiln ls` lists the catalog\n');
    await writeCatalog(root, { "images/app1/image.ts": image("app1", { app2: "app2" }), "images/app2/image.ts": image("app2", { app1: "app1" }) });
    const cycle = await kiln(["build", "--all", "--force"], env);
    expect(cycle.code).toBe(1);
    expect(cycle.stderr).toMatch(/^kiln: cycle: app1 -> app2 -> app1;/);
    expect(cycle.stderr).not.toMatch(/building/);
  });
});
