/**
 * Errors that name the fix, through the real CLI: a parent not built points to --with-parents with what
 * it builds, a definition that does not compile names file:line:column, plan and --dry-run refuse what
 * a build refuses, read-only commands never make a store.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, writeCatalog } from "../e2e/helpers.ts";

let root: string;
let store: string;
let env: NodeJS.ProcessEnv;
const COMMIT = "0".repeat(40);

const image = (name: string, extra = "") =>
  `import { defineImage } from "{{kiln}}";\nexport default defineImage({ name: "${name}", category: "experimental", description: "x"${extra} });\n`;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-fixes-"));
  await writeCatalog(root, {
    "images/base/image.ts": image("base", `, targets: { image: {}, extra: {} }`),
    "images/base/Dockerfile": "FROM scratch\nCOPY image.ts /\n",
    "images/app/image.ts": image("app", `, parents: { base: "base:image" }`),
    "images/app/Dockerfile": "FROM base\n",
    "images/nodockerfile/image.ts": image("nodockerfile", `, dockerfile: "Containerfile"`),
    "images/unlocked/image.ts": image("unlocked", `, inputs: { debian: { packages: ["hello"] } }`),
    "images/unlocked/Dockerfile": "FROM scratch\n",
    "images/stale/image.ts": image("stale", `, inputs: { git: { src: { url: "https://example.org/src.git", ref: "v2" } } }`),
    "images/stale/Dockerfile": "FROM scratch\n",
    "images/stale/kiln.lock.json": JSON.stringify({ lockVersion: 1, image: "stale", git: { src: { url: "https://example.org/src.git", ref: "v1", commit: COMMIT } } }),
  });
  // An empty store, as a first `kiln build` leaves it before anything is stored.
  store = path.join(root, "store");
  await fs.mkdir(path.join(store, "blobs", "sha256"), { recursive: true });
  await fs.writeFile(path.join(store, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await fs.writeFile(path.join(store, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [] }));
  env = { KILN_CATALOG: root, KILN_STORE: store, KILN_CACHE_DIR: path.join(root, "cache") };
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

/** Runs kiln and returns its one error line (after checking the exit code and that nothing else was printed). */
async function errorLine(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await kiln(args, { ...env, ...extraEnv });
  expect(r.code, r.stdout + r.stderr).toBe(1);
  const lines = r.stderr.trim().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0]!;
}

const WITH_PARENTS = "kiln build app --with-parents (builds 2 images: base:image, app)";

describe("a parent not built names --with-parents and what it builds", () => {
  it("kiln test", async () => {
    expect(await errorLine(["test", "app"])).toBe(`kiln: app is not in the store ${store}; build it first: ${WITH_PARENTS}`);
  });
  it("kiln build --dry-run", async () => {
    expect(await errorLine(["build", "app", "--dry-run"])).toBe(`kiln: parent base:image of app is not in the store ${store}; build it with its parents: ${WITH_PARENTS}`);
  });
  it("kiln plan", async () => {
    expect(await errorLine(["plan", "app"])).toBe(`kiln: parent base:image of app is not in the store ${store}; build it with its parents: ${WITH_PARENTS}`);
  });
  it("kiln status", async () => {
    const r = await kiln(["status", "app"], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe(`1 of 1 image needs a build: ${WITH_PARENTS}`);
    expect((await kiln(["status", "app", "--check"], env)).code).toBe(1);
  });
});

describe("definition load errors", () => {
  it("a syntax error names file:line:column and the compiler's message", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-syntax-"));
    try {
      await writeCatalog(dir, { "images/broken/image.ts": `import { defineImage } from "{{kiln}}";\nexport default defineImage({ name: "broken" category: "base" });\n` });
      const line = await errorLine(["plan", "broken"], { KILN_CATALOG: dir });
      expect(line).toMatch(/^kiln: \S*images\/broken\/image\.ts:2:45: cannot load the definition: Expected "}" but found "category"; fix the TypeScript error in that file$/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe("plan and build --dry-run refuse what build refuses", () => {
  for (const command of [["plan"], ["build", "--dry-run"], ["build"]]) {
    it(`${command.join(" ")}: a missing Dockerfile`, async () => {
      expect(await errorLine([...command, "nodockerfile"])).toMatch(/^kiln: \S*images\/nodockerfile\/image\.ts: dockerfile: \S*images\/nodockerfile\/Containerfile does not exist; create it, or set dockerfile: to the Dockerfile's path relative to \S*images\/nodockerfile$/);
    });
    it(`${command.join(" ")}: a package missing from the lock`, async () => {
      expect(await errorLine([...command, "unlocked"])).toBe("kiln: unlocked: unpinned input: Debian packages are declared but not locked; run `kiln refresh unlocked`");
    });
    it(`${command.join(" ")}: a stale lock`, async () => {
      expect(await errorLine([...command, "stale"])).toBe("kiln: stale: stale lock: git source src: https://example.org/src.git v2 declared, https://example.org/src.git v1 locked; run `kiln refresh stale`");
    });
  }
  it("plan --all prints every target and fails when a build would refuse one", async () => {
    const r = await kiln(["plan", "--all"], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("# stale:image: never-built (never built)\n  refused: stale: stale lock:");
    expect(r.stderr).toMatch(/^kiln: 3 of 6 targets would be refused by a build: nodockerfile:image, stale:image, unlocked:image; first: /);
  });
});

describe("read-only commands never make a store", () => {
  const missing = () => path.join(root, "no-such-store");
  for (const args of [["ls"], ["status"], ["status", "app"], ["plan", "base"], ["plan", "--all"], ["test", "base"], ["lock", "--check", "app"], ["build", "base", "--dry-run"]]) {
    it(`kiln ${args.join(" ")}`, async () => {
      const line = await errorLine(args, { KILN_STORE: missing() });
      expect(line).toMatch(new RegExp(`^kiln: no store at ${missing().replaceAll("/", "\\/")} \\(from KILN_STORE\\); check that path, or build into it first: kiln build \\S+ --with-parents`));
      await expect(fs.access(missing())).rejects.toThrow();
    });
  }
  it("names the settings key or the default when KILN_STORE is not what set it", async () => {
    const { storeOrigin } = await import("../../src/catalog/existing-store.ts");
    expect(storeOrigin({ store: "/x" }, {})).toBe("settings `store`");
    expect(storeOrigin({ store: "/x" }, { KILN_STORE: "/x" })).toBe("KILN_STORE");
    expect(storeOrigin({}, {})).toBe("the default, ~/.local/share/kiln/store");
    expect(storeOrigin({}, { XDG_DATA_HOME: "/d" })).toBe("the default, $XDG_DATA_HOME/kiln/store");
  });
  it("names the image in the fix when one is named", async () => {
    expect(await errorLine(["test", "app"], { KILN_STORE: missing() })).toBe(`kiln: no store at ${missing()} (from KILN_STORE); check that path, or build into it first: ${WITH_PARENTS}`);
  });
});
