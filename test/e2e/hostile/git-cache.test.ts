/**
 * The git cache and the host's git config are not trusted. Each case builds
 * an image whose only input is a git source (`COPY --from=git-src`), through
 * the kiln CLI and the real engine, and checks that what lands in the image
 * is the locked commit's bytes or that the build is refused with one line,
 * exit 1, nothing stored and no work folder left:
 *   - an object of the cached mirror whose bytes were changed (disk damage,
 *     or someone with write access to the cache);
 *   - a host git config that would transform the export (core.autocrlf, an
 *     attributes file with a smudge filter that runs a program);
 *   - a tree whose own .gitattributes ask for CRLF line endings.
 */
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { deflateSync, inflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { readImageFiles } from "../../../src/oci/layers.ts";
import { OciStore } from "../../../src/oci/store.ts";
import { ensureCommit, mirrorDir } from "../../../src/lock/git.ts";
import { LocalRepo } from "../../support/lock-fixtures.ts";
import { tempDir } from "../../support/temp-dir.ts";
import { kiln, writeCatalog } from "../helpers.ts";

const TEXT = "the genuine text\n";

let root: string;
let plain: LocalRepo;
let withAttributes: LocalRepo;

const image = (name: string, url: string) => `import { defineImage } from "{{kiln}}";
export default defineImage({ name: "${name}", category: "experimental", description: "hostile git cache fixture", platforms: ["linux/amd64"], inputs: { git: { src: { url: "${url}", ref: "v1" } } } });
`;
const DOCKERFILE = "FROM scratch\nCOPY --from=git-src / /src/\n";

/** A private store and cache per case: a damaged cache must not leak into another case. */
function envFor(name: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { KILN_CATALOG: root, KILN_STORE: path.join(root, name, "store"), KILN_CACHE_DIR: path.join(root, name, "cache"), ...extra };
}

/** The built image's file `src/<rel>`, read from the store. */
async function fileInImage(env: NodeJS.ProcessEnv, stdout: string, rel: string): Promise<string | undefined> {
  const built = JSON.parse(stdout) as { digest: string };
  const store = await OciStore.open(env.KILN_STORE!);
  const stored = await store.require(built.digest);
  const files = await readImageFiles(store, stored.manifests["linux/amd64"]!.digest);
  return files.get(`src/${rel}`)?.content?.toString("utf8");
}

beforeAll(async () => {
  root = await tempDir("kiln-hostile-git-");
  plain = await LocalRepo.create(path.join(root, "upstream-plain"));
  await plain.commit({ README: TEXT });
  plain.tag("v1");
  withAttributes = await LocalRepo.create(path.join(root, "upstream-attributes"));
  await withAttributes.commit({ "notes.txt": "line one\nline two\n" });
  // The attributes are committed alone, after the file: its blob keeps LF endings.
  await fs.writeFile(path.join(withAttributes.dir, ".gitattributes"), "* text eol=crlf\n");
  withAttributes.git("add", ".gitattributes");
  withAttributes.git("commit", "--quiet", "-m", "attributes");
  withAttributes.tag("v1");
  await writeCatalog(root, {
    "images/gitsrc/image.ts": image("gitsrc", plain.url),
    "images/gitsrc/Dockerfile": DOCKERFILE,
    "images/gitattrs/image.ts": image("gitattrs", withAttributes.url),
    "images/gitattrs/Dockerfile": DOCKERFILE,
  });
  for (const name of ["gitsrc", "gitattrs"]) {
    const r = await kiln(["lock", name], envFor("lock"));
    expect(r.stderr).toBe("");
  }
}, 120_000);

describe("hostile git cache: exports are the locked commit's bytes, or refused", () => {
  it("refuses a cached object whose bytes were changed: one line, exit 1, nothing stored, no work folder", async () => {
    const env = envFor("corrupt");
    const commit = plain.git("rev-parse", "v1");
    // Fill the cache as a build would, then change one byte of README's object in it.
    const mirror = mirrorDir(env.KILN_CACHE_DIR!, plain.url);
    await fs.mkdir(path.dirname(mirror), { recursive: true });
    await ensureCommit({ name: "src", url: plain.url, commit, cacheDir: env.KILN_CACHE_DIR!, offline: false, fix: "" });
    const blob = plain.git("rev-parse", "v1:README");
    const object = path.join(mirror, "objects", blob.slice(0, 2), blob.slice(2));
    const raw = inflateSync(await fs.readFile(object));
    raw[raw.indexOf(0) + 5]! ^= 0x01; // "the genuine" -> "the!genuine"
    await fs.chmod(object, 0o644);
    await fs.writeFile(object, deflateSync(raw));

    const r = await kiln(["build", "gitsrc", "--progress", "quiet", "--json"], env);
    const tree = plain.git("rev-parse", "v1^{tree}");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      new RegExp(`^kiln: git source src: the files exported for commit ${commit} make tree [0-9a-f]{40}, the commit's tree is ${tree}; the cached mirror ${mirror} is damaged: remove it \\(rm -rf ${mirror}\\) and run again to fetch it afresh\\n$`),
    );
    expect(existsSync(env.KILN_STORE!) ? (await (await OciStore.open(env.KILN_STORE!)).list()).map((i) => i.ref) : []).toEqual([]);
    expect(await fs.readdir(path.join(env.KILN_CACHE_DIR!, "work")).catch(() => [])).toEqual([]);
  }, 300_000);

  it("ignores the host's git config: no autocrlf, no attributes file, no smudge filter run", async () => {
    const marker = path.join(root, "smudge-ran");
    const attributes = path.join(root, "host-attributes");
    const config = path.join(root, "host-gitconfig");
    await fs.writeFile(attributes, "* filter=evil\n");
    await fs.writeFile(config, `[core]\n\tautocrlf = true\n\tattributesFile = ${attributes}\n[filter "evil"]\n\tsmudge = "touch ${marker}; sed s/genuine/EVIL/"\n`);
    const env = envFor("host-config", { GIT_CONFIG_GLOBAL: config });
    const r = await kiln(["build", "gitsrc", "--progress", "quiet", "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await fileInImage(env, r.stdout, "README")).toBe(TEXT);
    expect(existsSync(marker)).toBe(false);
  }, 300_000);

  it("ignores the tree's own .gitattributes: LF stays LF", async () => {
    const env = envFor("attributes");
    const r = await kiln(["build", "gitattrs", "--progress", "quiet", "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await fileInImage(env, r.stdout, "notes.txt")).toBe("line one\nline two\n");
  }, 300_000);
});
