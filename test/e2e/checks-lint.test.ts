/**
 * `kiln lint` as a user runs it: the broken fixture catalog fails with one
 * finding per broken rule, a clean image passes, and the real catalog passes.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, REPO, tempEnv, writeCatalog } from "./helpers.ts";

const FIXTURES = path.join(REPO, "test/fixtures/broken");
let dir: string;

beforeAll(async () => {
  ({ dir } = await tempEnv("checks-lint"));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("kiln lint", () => {
  it("reports every broken rule of the fixture catalog with file, line and rule id", async () => {
    const r = await kiln(["lint", "--all"], { KILN_CATALOG: FIXTURES });
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split("\n")).toEqual([
      "test/fixtures/broken/hack/greet:3: SC2086: info: Double quote to prevent globbing and word splitting.",
      "test/fixtures/broken/images/no-healthcheck/Dockerfile:2: healthcheck: target image (stage #0) declares no HEALTHCHECK (or set runtime.healthcheck: false)",
      "test/fixtures/broken/images/runs-as-root/Dockerfile:2: final-stage-user: target image (stage #0) sets no USER: it would run as root",
    ]);
    expect(r.stderr).toContain("5 images, 1 shell script: 3 findings");
  });

  it("passes a clean image and fails a single broken one", async () => {
    expect(await kiln(["lint", "control"], { KILN_CATALOG: FIXTURES })).toMatchObject({ code: 0, stdout: "" });
    const broken = await kiln(["lint", "runs-as-root"], { KILN_CATALOG: FIXTURES });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/runs-as-root\/Dockerfile:2: final-stage-user: /);
  });

  it("reports an invalid definition and an unknown parent as definition findings", async () => {
    const root = path.join(dir, "catalog");
    await writeCatalog(root, {
      "images/bad/image.ts": `export default { name: "bad", category: "nope", description: "x" };\n`,
      "images/orphan/image.ts": `export default { name: "orphan", category: "experimental", description: "x", parents: { base: "missing" } };\n`,
      "images/orphan/Dockerfile": "FROM base\nUSER 2000\nHEALTHCHECK CMD x\n",
      "images/orphan/run.sh": "#!/bin/sh\necho ok\n",
    });
    const r = await kiln(["lint"], { KILN_CATALOG: root }, root);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^images\/bad\/image\.ts:1: definition: .*category: invalid value; allowed: "base"/);
    expect(lines[1]).toMatch(/^images\/orphan\/image\.ts:1: definition: orphan \(parents\.base\) needs parent "missing" which is not in the catalog/);
  });

  it("rejects an unknown image name with one line", async () => {
    const r = await kiln(["lint", "nosuch"], { KILN_CATALOG: FIXTURES });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kiln: unknown image "nosuch"/);
    expect(r.stderr).not.toMatch(/at .*\.ts:/);
  });

  it("passes the catalog images", async () => {
    const r = await kiln(["lint", "--all"]);
    expect(r.stdout).toBe("");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^\d+ images?, \d+ shell scripts?: no findings\n$/);
  });
});
