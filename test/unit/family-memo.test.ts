import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { familyMemoKey, KILN_SOURCE_PATHS, kilnSourceDigest } from "../support/kiln-source.ts";

const REPO = path.resolve(import.meta.dirname, "../..");

/** A copy of this checkout's build path, to change one line of. */
function copyBuildPath(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kiln-memo-"));
  for (const p of KILN_SOURCE_PATHS) cpSync(path.join(REPO, p), path.join(dir, p), { recursive: true });
  return dir;
}

describe("the end-to-end family memo", () => {
  const copy = copyBuildPath();
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it("is keyed on kiln's own source: a one-line change in the build path misses the memo", () => {
    const before = kilnSourceDigest(copy);
    expect(kilnSourceDigest(copy)).toBe(before);
    const remembered = familyMemoKey("sha256:inputs", "commit", before);

    const file = path.join(copy, "src/build/build.ts");
    writeFileSync(file, readFileSync(file, "utf8").replace(/\n/, "\n// one line more\n"));
    const after = kilnSourceDigest(copy);
    expect(after).not.toBe(before);
    expect(familyMemoKey("sha256:inputs", "commit", after)).not.toBe(remembered);
  });

  it("counts the base image's shared tools and the package lock, not the tests", () => {
    const before = kilnSourceDigest(copy);
    writeFileSync(path.join(copy, "src/build/extra.test.ts"), "// a test builds nothing\n");
    expect(kilnSourceDigest(copy)).toBe(before);

    writeFileSync(path.join(copy, "images/base/context/deb-install"), "#!/bin/sh\nexit 0\n", { flag: "a" });
    const tools = kilnSourceDigest(copy);
    expect(tools).not.toBe(before);

    writeFileSync(path.join(copy, "package-lock.json"), "\n", { flag: "a" });
    expect(kilnSourceDigest(copy)).not.toBe(tools);
  });
});
