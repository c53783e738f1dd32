import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog, loadImage } from "../../src/definition/catalog.ts";
import { KilnError } from "../../src/errors.ts";

const schema = path.resolve("src/definition/schema.ts");
let root: string;

async function writeImage(name: string, body: string): Promise<void> {
  await fs.mkdir(path.join(root, "images", name), { recursive: true });
  await fs.writeFile(path.join(root, "images", name, "image.ts"), `import { defineImage } from ${JSON.stringify(schema)};\nexport default defineImage(${body});\n`);
}

async function loadError(name: string): Promise<string> {
  try {
    await loadImage(name, root);
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    return (e as KilnError).toLine();
  }
  throw new Error("expected an error");
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-def-"));
  await writeImage("good", `{ name: "good", category: "base", description: "ok" }`);
  await writeImage("badplatform", `{ name: "badplatform", category: "base", description: "x", platforms: ["linux/amd65"] } as any`);
  await writeImage("unknownkey", `{ name: "unknownkey", category: "base", description: "x", colour: "red" } as any`);
  await writeImage("wrongtype", `{ name: "wrongtype", category: "base", description: 42 } as any`);
  await writeImage("nested", `{ name: "nested", category: "base", description: "x", runtime: { usr: "1" } } as any`);
  await writeImage("misnamed", `{ name: "other", category: "base", description: "x" }`);
  await writeImage("ontop", `{ name: "ontop", category: "base", description: "x", parents: { base: "base:runtime" }, inputs: { debian: { packages: ["curl"], onTopOf: "runtime" } } }`);
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe("definitions", () => {
  it("fills defaults", async () => {
    const img = await loadImage("good", root);
    expect(img.def.platforms).toEqual(["linux/amd64", "linux/arm64"]);
    expect(Object.keys(img.def.targets)).toEqual(["image"]);
    expect(img.def.runtime.user).toBe("2000");
  });
  it("names the file, the field and what is allowed", async () => {
    expect(await loadError("badplatform")).toMatch(/images\/badplatform\/image\.ts: platforms\[0\]: invalid value; allowed: "linux\/amd64", "linux\/arm64"/);
    expect(await loadError("unknownkey")).toMatch(/image\.ts: unknown key "colour"; allowed: name, category, description/);
    expect(await loadError("wrongtype")).toMatch(/description: expected string, got number/);
    expect(await loadError("nested")).toMatch(/runtime: unknown key "usr"; allowed: user, ports/);
    expect(await loadError("misnamed")).toMatch(/name: "other" does not match its folder "misnamed"/);
  });
  it("refuses onTopOf that names no parent", async () => {
    expect(await loadError("ontop")).toMatch(
      /images\/ontop\/image\.ts: inputs\.debian\.onTopOf: "runtime" is not one of the parents \(base\); name a key of parents, e\.g\. parents: \{ "runtime": "base:runtime" \}$/,
    );
  });

  it("suggests close names for an unknown image", async () => {
    expect(await loadError("godo")).toMatch(/unknown image "godo".*did you mean good\?/);
  });
  it("loads a catalog", async () => {
    await expect(loadCatalog(root)).rejects.toThrow(KilnError);
  });
});
