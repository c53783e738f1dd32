/**
 * `kiln verify` on the real engine: an image that records its build date is
 * caught, with the diff naming the file; an image built on a catalog parent
 * (copied into the fresh stores by digest) is reproducible.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokenCatalog } from "../support/broken-catalog.ts";
import { kiln, tempEnv } from "./helpers.ts";

let dir: string;
let env: NodeJS.ProcessEnv;

const CHILD = {
  "images/child/image.ts": `export default {
  name: "child", category: "experimental", description: "control plus one page", platforms: ["linux/amd64"],
  parents: { control: "control" }, metadata: { licenses: "GPL-2.0-only" },
};
`,
  "images/child/Dockerfile": "FROM control\nCOPY page.html /www/page.html\n",
  "images/child/page.html": "<p>child</p>\n",
};

beforeAll(async () => {
  ({ dir, env } = await tempEnv("checks-verify"));
  env = { ...env, KILN_CATALOG: await brokenCatalog(path.join(dir, "catalog"), CHILD) };
  for (const args of [["build", "control", "--progress", "quiet"], ["refresh", "child"]]) {
    const r = await kiln(args, env);
    if (r.code !== 0) throw new Error(`kiln ${args.join(" ")} failed: ${r.stderr}`);
  }
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("kiln verify", () => {
  it("fails an image that writes its build date, printing the diff, and passes one built on a parent", async () => {
    const r = await kiln(["verify", "build-date", "child"], env);
    expect(r.code).toBe(1);
    const out = r.stdout;
    expect(out).toMatch(/^build-date:image \(\d+s\)\n {2}✗ reproducible linux\/amd64: two builds differ: sha256:[0-9a-f]{64} vs sha256:[0-9a-f]{64}\n/);
    expect(out).toContain("    --- build-date:image (build 1)\n    +++ build-date:image (build 2)\n    linux/amd64 layer 1:\n      etc/build-date: content sha256:");
    expect(out).toMatch(/ {10}- \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n {10}\+ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n {4}1 difference\n/);
    expect(out).toMatch(/child:image \(\d+s\)\n {2}✓ reproducible linux\/amd64: sha256:[0-9a-f]{64}\n/);
    expect(r.stderr).toContain("kiln: reproducible: build-date:image (linux/amd64) not reproducible");
    // Verification never touches the local store: only control (built above) is there.
    const ls = await fs.readFile(path.join(env.KILN_STORE!, "index.json"), "utf8");
    expect(JSON.parse(ls).manifests.map((m: { annotations: Record<string, string> }) => m.annotations["org.opencontainers.image.ref.name"])).toEqual(["control:image"]);
  });

  it("a later build reports the verdict of the digest it gives: verified for child, differs for build-date", async () => {
    const verdicts: Record<string, string> = {};
    for (const image of ["child", "build-date"]) {
      const file = path.join(dir, `report-${image}.json`);
      const r = await kiln(["build", image, "--report", file, "--progress", "quiet"], env);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(await fs.readFile(file, "utf8")) as { images: { ref: string; reproducible: string }[] };
      for (const i of report.images) verdicts[i.ref] = i.reproducible;
    }
    // build-date's layers come from the engine cache that verify's builds filled: its digest is one
    // of the two that verify caught differing.
    expect(verdicts).toEqual({ "child:image": "verified", "build-date:image": "differs" });
  });

  it("refuses an image whose parent is not built, in one line", async () => {
    const r = await kiln(["verify", "child"], { ...env, KILN_STORE: path.join(dir, "empty-store") });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kiln: parent control:image \(sha256:[0-9a-f]{64}\) of child is not in the local store .*; build it first: kiln build control:image\n$/);
  });
});
