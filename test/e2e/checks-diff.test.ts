/**
 * `kiln diff` on images the real engine built: two images from scratch that
 * differ by one file's content and another file's mode give exactly those
 * two differences, by OCI layout path and by store reference.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OciStore } from "../../src/oci/store.ts";
import { kiln, mustRun, tempEnv } from "./helpers.ts";

let dir: string;
let env: NodeJS.ProcessEnv;

async function buildLayout(name: string, files: Record<string, { content: string; mode: number }>): Promise<string> {
  const context = path.join(dir, `${name}-context`);
  await fs.mkdir(context, { recursive: true });
  await fs.writeFile(path.join(context, "Dockerfile"), "FROM scratch\nCOPY files/ /\n");
  for (const [rel, f] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(context, "files", rel)), { recursive: true });
    await fs.writeFile(path.join(context, "files", rel), f.content);
    await fs.chmod(path.join(context, "files", rel), f.mode);
  }
  const dest = path.join(dir, name);
  await mustRun("docker", [
    "buildx", "build", "--quiet", "--provenance=false", "--sbom=false", "--platform", "linux/amd64",
    "--build-arg", "SOURCE_DATE_EPOCH=1735689600",
    "--output", `type=oci,tar=false,dest=${dest},rewrite-timestamp=true`, context,
  ]);
  return dest;
}

beforeAll(async () => {
  ({ dir, env } = await tempEnv("checks-diff"));
  const base = { "etc/app.conf": { content: "port = 8080\nlog = info\n", mode: 0o644 }, "usr/bin/start": { content: "#!/bin/sh\nexec app\n", mode: 0o644 }, "README": { content: "same\n", mode: 0o644 } };
  const a = await buildLayout("a", base);
  const b = await buildLayout("b", { ...base, "etc/app.conf": { content: "port = 9090\nlog = info\n", mode: 0o644 }, "usr/bin/start": { content: "#!/bin/sh\nexec app\n", mode: 0o755 } });
  const store = await OciStore.open(env.KILN_STORE!);
  await store.importLayout(a, "a:image");
  await store.importLayout(b, "b:image");
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("kiln diff", () => {
  it("reports exactly the changed content and the changed mode", async () => {
    const r = await kiln(["diff", `oci:${path.join(dir, "a")}`, `oci:${path.join(dir, "b")}`], env);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.slice(2)).toEqual([
      "linux/amd64 layer 0:",
      expect.stringMatching(/^ {2}etc\/app\.conf: content sha256:[0-9a-f]{12} \(23 bytes\) -> sha256:[0-9a-f]{12} \(23 bytes\)$/),
      "      @@ line 1",
      "      - port = 8080",
      "      - log = info",
      "      + port = 9090",
      "      + log = info",
      "  usr/bin/start: mode 0644 -> 0755",
      "2 differences",
    ]);
    const json = await kiln(["diff", "a:image", "b:image", "--json"], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).differences.map((d: { subject: string; kind: string }) => `${d.subject} ${d.kind}`)).toEqual(["etc/app.conf content", "usr/bin/start mode"]);
  });

  it("exits 0 for the same image named two ways", async () => {
    const store = await OciStore.open(env.KILN_STORE!);
    const digest = (await store.require("a:image")).digest;
    const r = await kiln(["diff", "a:image", `oci:${path.join(dir, "a")}@${digest}`], env);
    expect(r).toMatchObject({ code: 0, stdout: `identical: a:image and oci:${path.join(dir, "a")}@${digest}\n` });
  });

  it("says in one line what it cannot find", async () => {
    const r = await kiln(["diff", "a:image", "nosuch:image"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kiln: image nosuch:image is not in the local store/);
  });
});
