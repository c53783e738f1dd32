/**
 * The local store's disk is not trusted: anything (a bad disk, another user,
 * a tool writing there) may have changed a blob or index.json since kiln
 * wrote it. Each case damages a store made of real OCI layouts, then runs
 * what reads it (the kiln CLI, or the function `kiln engine setup --buildkit`
 * extracts buildctl with); each must be refused with one line naming the blob
 * and the store, exit 1, and leave nothing behind (no output believed from
 * the damaged bytes, no executable, no state folder).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { extractBuildctl, setupBuildkitd } from "../../../src/engine/buildkitd.ts";
import { KilnError } from "../../../src/errors.ts";
import { OciStore, type OciManifest } from "../../../src/oci/store.ts";
import { hashBytes } from "../../../src/util/cas.ts";
import { writeLayout, type FixtureImage } from "../../support/oci-layout.ts";
import { tempDir } from "../../support/temp-dir.ts";
import { kiln } from "../helpers.ts";

const TOOL = "#!/bin/sh\necho the genuine tool\n";

let work: string;
let store: OciStore;
const env = () => ({ KILN_STORE: store.dir, KILN_CACHE_DIR: path.join(work, "cache") });

beforeEach(async () => {
  work = await tempDir("kiln-hostile-store-");
  store = await OciStore.open(path.join(work, "store"));
});

/** Stores a fixture image under `ref`; returns its manifest and its first layer's blob file. */
async function storeImage(ref: string, image: FixtureImage): Promise<{ manifest: OciManifest; manifestDigest: string; layerFile: string; layerDigest: string }> {
  const layout = path.join(work, ref.replace(":", "-"));
  const { manifest: manifestDigest } = await writeLayout(layout, image);
  await store.importLayout(layout, ref);
  const manifest = await store.readJson<OciManifest>(manifestDigest);
  const layerDigest = manifest.layers[0]!.digest;
  return { manifest, manifestDigest, layerFile: store.blobPath(layerDigest), layerDigest };
}

const tool = (text: string) => [[{ path: "usr/bin/tool", content: `${TOOL}${text}\n`, mode: 0o755 }]];

/** Flips one bit of `file` at `at` (a function of its size); returns the damaged bytes' sha256. */
async function flipByte(file: string, at: (size: number) => number): Promise<string> {
  const bytes = await fs.readFile(file);
  bytes[at(bytes.length)]! ^= 0x01;
  await fs.chmod(file, 0o644);
  await fs.writeFile(file, bytes);
  return hashBytes(bytes);
}

/** Every file under `dir` (relative), for "nothing was added or left behind". */
async function listing(dir: string): Promise<string[]> {
  return ((await fs.readdir(dir, { recursive: true })) as string[]).sort();
}

const corrupt = (digest: string, actual: string, file: string) =>
  `blob ${digest} in the store ${store.dir} is corrupt: its bytes hash to sha256:${actual}; remove ${file} and build the image that holds it again`;

describe("hostile store: kiln reads nothing it has not verified", () => {
  it("kiln diff refuses a flipped byte inside a file of a stored (plain tar) layer", async () => {
    const a = await storeImage("a:image", { uncompressed: true, layers: tool("one") });
    await storeImage("b:image", { uncompressed: true, layers: tool("two") });
    // Offset 512 + 20: the tool's bytes, after the tar header: the archive still parses.
    const actual = await flipByte(a.layerFile, () => 512 + 20);
    const before = await listing(store.dir);
    const r = await kiln(["diff", "a:image", "b:image"], env());
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code: 1, stderr: `kiln: ${corrupt(a.layerDigest, actual, a.layerFile)}\n`, stdout: "" });
    expect(await listing(store.dir)).toEqual(before);
  });

  it("kiln diff refuses a flipped byte in a stored gzip layer (named as a damaged blob, not a gzip error)", async () => {
    const a = await storeImage("a:image", { layers: tool("one") });
    await storeImage("b:image", { layers: tool("two") });
    const actual = await flipByte(a.layerFile, (n) => n - 1);
    const r = await kiln(["diff", "a:image", "b:image"], env());
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code: 1, stderr: `kiln: ${corrupt(a.layerDigest, actual, a.layerFile)}\n`, stdout: "" });
  });

  it("kiln diff refuses a stored config whose user was changed (2000 -> 3000)", async () => {
    const a = await storeImage("a:image", { layers: tool("one") });
    await storeImage("b:image", { layers: tool("two") });
    const configFile = store.blobPath(a.manifest.config.digest);
    const at = (await fs.readFile(configFile, "utf8")).indexOf('"User":"2000"') + '"User":"'.length;
    const actual = await flipByte(configFile, () => at); // '2' ^ 1 = '3'
    expect(await fs.readFile(configFile, "utf8")).toContain('"User":"3000"');
    const r = await kiln(["diff", "a:image", "b:image"], env());
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code: 1, stderr: `kiln: ${corrupt(a.manifest.config.digest, actual, configFile)}\n`, stdout: "" });
  });

  it("kiln diff refuses an index.json entry whose digest is a path (here: to another image's manifest)", async () => {
    await storeImage("a:image", { layers: tool("one") });
    const b = await storeImage("b:image", { layers: tool("two") });
    const indexFile = path.join(store.dir, "index.json");
    const index = JSON.parse(await fs.readFile(indexFile, "utf8")) as { manifests: { digest: string; mediaType: string; size: number; annotations: Record<string, string> }[] };
    const entry = index.manifests.find((m) => m.annotations["org.opencontainers.image.ref.name"] === "a:image")!;
    const forged = `sha256:../sha256/${b.manifestDigest.slice("sha256:".length)}`;
    Object.assign(entry, { digest: forged, mediaType: "application/vnd.oci.image.manifest.v1+json", size: (await fs.stat(store.blobPath(b.manifestDigest))).size });
    await fs.writeFile(indexFile, JSON.stringify(index));
    const r = await kiln(["diff", "a:image", "b:image"], env());
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({
      code: 1,
      stderr: `kiln: the store's index ${indexFile}: ${JSON.stringify(forged)} is not a digest; remove that entry from ${indexFile}, or the store ${store.dir}, and build again\n`,
      stdout: "",
    });
  });

  it("kiln diff refuses a digest on the command line that is not one", async () => {
    await storeImage("a:image", { layers: tool("one") });
    const layout = path.join(work, "a-image");
    const r = await kiln(["diff", `oci:${layout}@sha256:../../../etc`, "a:image"], env());
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code: 1, stderr: 'kiln: image: "sha256:../../../etc" is not a digest; a digest is sha256: followed by 64 lowercase hex digits\n', stdout: "" });
  });
});

describe("hostile store: buildctl (run on the host) comes only from verified bytes", () => {
  const buildkit = (content: string): FixtureImage => ({ layers: [[{ path: "usr/bin/buildctl", content, mode: 0o755 }], [{ path: "etc/buildkit/note", content: "x" }]] });

  it("writes an intact buildctl executable, whole, by one rename", async () => {
    const { manifestDigest } = await storeImage("buildkit:image", buildkit("#!/bin/sh\necho buildctl\n"));
    const dir = path.join(work, "state");
    const file = await extractBuildctl(store, manifestDigest, dir);
    expect(await fs.readFile(file, "utf8")).toBe("#!/bin/sh\necho buildctl\n");
    expect((await fs.stat(file)).mode & 0o777).toBe(0o755);
    expect(await fs.readdir(dir)).toEqual([path.basename(file)]);
  });

  it("refuses a flipped byte inside buildctl's bytes (a plain tar layer, which still parses): no executable", async () => {
    const { manifestDigest, layerFile, layerDigest } = await storeImage("buildkit:image", { ...buildkit("#!/bin/sh\necho buildctl\n"), uncompressed: true });
    const actual = await flipByte(layerFile, () => 512 + 12);
    const dir = path.join(work, "state");
    await fs.mkdir(dir); // as a setup that made its certificates already would have it
    const err = await extractBuildctl(store, manifestDigest, dir).catch((e: unknown) => e);
    expect(err instanceof KilnError ? err.toLine() : String(err)).toBe(corrupt(layerDigest, actual, layerFile));
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it("removes a buildctl extracted earlier from that image once its layer no longer verifies", async () => {
    const { manifestDigest, layerFile } = await storeImage("buildkit:image", buildkit("#!/bin/sh\necho buildctl\n"));
    const dir = path.join(work, "state");
    await fs.mkdir(dir);
    const file = await extractBuildctl(store, manifestDigest, dir);
    await flipByte(layerFile, (n) => Math.floor(n / 2));
    await expect(extractBuildctl(store, manifestDigest, dir)).rejects.toThrow(/is corrupt: its bytes hash to/);
    expect(await fs.readdir(dir)).toEqual([]);
    expect(file.startsWith(dir)).toBe(true);
  });

  it("setting up buildkitd from a damaged image makes nothing: no certificates, no buildctl, no container", async () => {
    const { layerFile } = await storeImage("buildkit:image", buildkit("#!/bin/sh\necho buildctl\n"));
    await flipByte(layerFile, (n) => Math.floor(n / 2));
    const image = await store.require("buildkit:image");
    const stateDir = path.join(work, "buildkitd");
    const name = `kiln-hostile-store-${process.pid}`;
    const spec = { name, listen: "127.0.0.1", port: 1, network: "bridge" as const, hosts: [], privilegeArgs: [], stateDir };
    await expect(setupBuildkitd(store, image, image.manifests["linux/amd64"]!.digest, spec, () => undefined)).rejects.toThrow(/^blob sha256:[0-9a-f]{64} in the store .* is corrupt/);
    await expect(fs.access(stateDir)).rejects.toThrow();
  });
});
