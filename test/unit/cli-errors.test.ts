/** Bad input through the real CLI: one actionable line, a non-zero exit, no stack trace. */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, writeCatalog } from "../e2e/helpers.ts";

let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-cli-"));
  await writeCatalog(root, {
    "images/hello/image.ts": `import { defineImage } from "{{kiln}}";\nexport default defineImage({ name: "hello", category: "experimental", description: "x" });\n`,
    "images/hello/Dockerfile": "FROM scratch\nCOPY image.ts /\n",
    "images/wrongtype/image.ts": `import { defineImage } from "{{kiln}}";\nexport default defineImage({ name: "wrongtype", category: "base", description: "x", platforms: "linux/amd64" } as any);\n`,
    "images/unknownkey/image.ts": `import { defineImage } from "{{kiln}}";\nexport default defineImage({ name: "unknownkey", category: "base", description: "x", dockerfle: "Dockerfile" } as any);\n`,
  });
  env = { KILN_CATALOG: root, KILN_STORE: path.join(root, "store"), KILN_CACHE_DIR: path.join(root, "cache") };
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

async function expectOneLineError(args: string[], pattern: RegExp, extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
  const r = await kiln(args, { ...env, ...extraEnv });
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kiln: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("bad input", () => {
  it("unknown image", () => expectOneLineError(["build", "helo"], /unknown image "helo".*did you mean hello/));
  it("definition field of the wrong type", () => expectOneLineError(["build", "wrongtype"], /images\/wrongtype\/image\.ts: platforms: expected array, got string/));
  it("definition with an unknown key", () => expectOneLineError(["build", "unknownkey"], /image\.ts: unknown key "dockerfle"; allowed: .*dockerfile/));
  it("invalid platform", () => expectOneLineError(["build", "hello", "--platform", "linux/amd65"], /invalid platform "linux\/amd65"; use one of linux\/amd64, linux\/arm64/));
  it("unknown --set key", () => expectOneLineError(["build", "hello", "--set", "engine.drivr=buildx"], /engine\.drivr/));
  it("unreachable engine", () => expectOneLineError(["build", "hello"], /docker|engine|BuildKit/i, { DOCKER_HOST: "unix:///nonexistent.sock" }));
  it("invalid --output", () => expectOneLineError(["build", "hello", "--output", "zip:/tmp/x"], /invalid --output "zip:\/tmp\/x"/));
});
