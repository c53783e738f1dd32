import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/temp-dir.ts";
import type { LoadedImage } from "../definition/catalog.ts";
import { definitionSchema } from "../definition/schema.ts";
import { settingsSchema } from "../settings/schema.ts";
import { hashBytes, hashFile } from "../util/cas.ts";
import { npmProblem, packagesOfLockfile, prepareNpm, sha512OfIntegrity } from "./npm.ts";
import type { NpmLock } from "./schema.ts";

const TARBALL = "a tarball's bytes\n";
const SHA512 = hashBytes(TARBALL, "sha512");
const INTEGRITY = `sha512-${Buffer.from(SHA512, "hex").toString("base64")}`;
const lockfile = (packages: Record<string, unknown>, lockfileVersion = 3) => JSON.stringify({ name: "app", lockfileVersion, packages: { "": { name: "app" }, ...packages } });

describe("npm package-locks", () => {
  it("reads sha512 integrity as hex", () => {
    expect(sha512OfIntegrity(`sha1-abc ${INTEGRITY}`)).toBe(SHA512);
    expect(sha512OfIntegrity("sha1-abc")).toBeUndefined();
  });

  it("pins every registry package; bundled ones come inside their parent", () => {
    const text = lockfile({
      "node_modules/ms": { version: "2.1.3", resolved: "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz", integrity: INTEGRITY },
      "node_modules/x": { version: "1.0.0", resolved: "https://example.org/x-1.0.0.tgz", integrity: INTEGRITY },
      "node_modules/x/node_modules/y": { version: "1.0.0", inBundle: true },
    });
    expect(packagesOfLockfile(text, "app")).toEqual([
      { path: "node_modules/ms", version: "2.1.3", url: "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz", sha512: SHA512 },
      { path: "node_modules/x", version: "1.0.0", url: "https://example.org/x-1.0.0.tgz", sha512: SHA512 },
    ]);
  });

  it("refuses what is not pinned by sha512 from a registry, and old lockfiles", () => {
    expect(() => packagesOfLockfile(lockfile({ "node_modules/a": { version: "1", resolved: "https://example.org/a-1.tgz", integrity: "sha1-abc" } }), "app")).toThrow("app: node_modules/a has no https `resolved` URL and sha512 `integrity`");
    // npm's omit-lockfile-registry-resolved: `npm ci --offline` would then need the registry's metadata.
    expect(() => packagesOfLockfile(lockfile({ "node_modules/ms": { version: "2.1.3", integrity: INTEGRITY } }), "app")).toThrow(
      "app: node_modules/ms has no `resolved` URL (the package-lock was written with omit-lockfile-registry-resolved); `npm ci --offline` cannot install it from the tarball cache",
    );
    expect(() => packagesOfLockfile(lockfile({ "node_modules/a": { version: "1", resolved: "git+ssh://x", integrity: INTEGRITY } }), "app")).toThrow("node_modules/a has no https");
    expect(() => packagesOfLockfile(lockfile({ "node_modules/a": { link: true } }), "app")).toThrow("app: node_modules/a is a link to a local folder");
    expect(() => packagesOfLockfile(JSON.stringify({ lockfileVersion: 1, dependencies: {} }), "app")).toThrow("app is lockfileVersion 1; kiln reads version 2 or 3");
    expect(() => packagesOfLockfile("{", "app")).toThrow("app is not valid JSON");
  });
});

describe("npm build contexts", () => {
  const setup = async (served: string) => {
    const dir = await tempDir("kiln-npm-");
    const text = lockfile({ "node_modules/t": { version: "1.0.0", resolved: "https://registry.npmjs.org/t/-/t-1.0.0.tgz", integrity: INTEGRITY } });
    await fs.mkdir(path.join(dir, "app"), { recursive: true });
    await fs.writeFile(path.join(dir, "app/package-lock.json"), text);
    await fs.writeFile(path.join(dir, "app/package.json"), '{ "name": "app" }\n');
    await fs.writeFile(path.join(dir, "t.tgz"), served);
    const def = definitionSchema.parse({ name: "app", category: "experimental", description: "x", inputs: { npm: { app: { lockfile: "app/package-lock.json" } } } });
    const image = { name: "app", dir, file: path.join(dir, "image.ts"), def } as LoadedImage;
    const pin: NpmLock = { lockfile: "app/package-lock.json", sha256: hashBytes(text), packages: [{ path: "node_modules/t", version: "1.0.0", url: `file://${dir}/t.tgz`, sha512: SHA512 }] };
    const settings = settingsSchema.parse({ cacheDir: path.join(dir, "cache") });
    return { dir, image, pin, settings };
  };

  it("lays the verified tarballs out as npm's cache, next to the package files", async () => {
    const { image, pin, settings } = await setup(TARBALL);
    const work = await tempDir("kiln-npm-work-");
    const contexts = await prepareNpm({ image, lock: { npm: { app: pin } }, settings, workDir: work });
    const ctx = contexts["npm-app"]!;
    expect((await fs.readdir(ctx)).sort()).toEqual(["cache", "package-lock.json", "package.json"]);
    const entry = path.join(ctx, "cache/_cacache/content-v2/sha512", SHA512.slice(0, 2), SHA512.slice(2, 4), SHA512.slice(4));
    expect(await hashFile(entry, "sha512")).toBe(SHA512);
    expect(await npmProblem(image, "app", pin)).toBeUndefined();
  });

  it("refuses a tarball whose bytes differ, naming it and both hashes", async () => {
    const { image, pin, settings } = await setup("tampered\n");
    await expect(prepareNpm({ image, lock: { npm: { app: pin } }, settings, workDir: await tempDir() })).rejects.toThrow(
      `npm app node_modules/t@1.0.0: ${pin.packages[0]!.url} has sha512 ${hashBytes("tampered\n", "sha512")}, the lock expects ${SHA512}`,
    );
  });

  it("calls a changed package-lock stale", async () => {
    const { dir, image, pin } = await setup(TARBALL);
    await fs.appendFile(path.join(dir, "app/package-lock.json"), "\n");
    expect(await npmProblem(image, "app", pin)).toMatch(/^npm app: app\/package-lock.json changed since the lock was made \(sha256 [0-9a-f]{64}, locked [0-9a-f]{64}\)$/);
  });
});
