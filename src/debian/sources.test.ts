import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/temp-dir.ts";
import { settingsSchema } from "../settings/schema.ts";
import { ContentStore, hashBytes } from "../util/cas.ts";
import { fetchSourceFiles } from "./source-resolve.ts";
import { checkDscAgainstIndex, dscBody, parseSourcesIndex, pickSource } from "./sources.ts";

const ORIG = "upstream tarball bytes\n";
const DEBIAN = "debian tarball bytes\n";
const files = [
  { name: "hello_2.10.orig.tar.gz", size: ORIG.length, sha256: hashBytes(ORIG) },
  { name: "hello_2.10-3.debian.tar.xz", size: DEBIAN.length, sha256: hashBytes(DEBIAN) },
];
const dscFor = (listed: typeof files, version = "2.10-3") =>
  [
    "-----BEGIN PGP SIGNED MESSAGE-----",
    "Hash: SHA512",
    "",
    "Format: 3.0 (quilt)",
    "Source: hello",
    `Version: ${version}`,
    "Checksums-Sha256:",
    ...listed.map((f) => ` ${f.sha256} ${f.size} ${f.name}`),
    "-----BEGIN PGP SIGNATURE-----",
    "",
    "iQ==",
    "-----END PGP SIGNATURE-----",
    "",
  ].join("\n");
const DSC = dscFor(files);
const dscFile = { name: "hello_2.10-3.dsc", size: DSC.length, sha256: hashBytes(DSC) };
const stanza = (version: string, list = [files[0]!, dscFile, files[1]!]) =>
  ["Package: hello", `Version: ${version}`, "Directory: pool/main/h/hello", "Checksums-Sha256:", ...list.map((f) => ` ${f.sha256} ${f.size} ${f.name}`), ""].join("\n");
const suite = { archive: "debian" as const, suite: "bookworm" };

describe("Debian Sources indices", () => {
  it("reads each source stanza with the .dsc first and every file's sha256", () => {
    const [entry] = parseSourcesIndex(stanza("2.10-3") + "\nPackage: nodsc\nVersion: 1\nDirectory: pool/x\n", suite);
    expect(entry).toEqual({ package: "hello", version: "2.10-3", archive: "debian", suite: "bookworm", directory: "pool/main/h/hello", files: [dscFile, files[0], files[1]] });
  });

  it("picks the requested version, else the newest in dpkg's order, and says what exists", async () => {
    const entries = parseSourcesIndex([stanza("2.10-3"), stanza("2.10-10"), stanza("2.9-1")].join("\n"), suite);
    expect((await pickSource(entries, "hello")).version).toBe("2.10-10");
    expect((await pickSource(entries, "hello", "2.9-1")).version).toBe("2.9-1");
    await expect(pickSource(entries, "hello", "3.0-1")).rejects.toThrow("Debian source package hello has no version 3.0-1 (published: 2.10-3, 2.10-10, 2.9-1)");
    await expect(pickSource(entries, "nosuch")).rejects.toThrow("no Debian source package nosuch in the verified Sources indices");
  });

  it("accepts a .dsc that lists exactly the index's files and refuses one that lists others", () => {
    const entry = { package: "hello", version: "2.10-3", files: [dscFile, ...files] };
    expect(dscBody(DSC)).toMatch(/^Format: 3.0 \(quilt\)\nSource: hello/);
    expect(() => checkDscAgainstIndex(DSC, entry)).not.toThrow();
    const other = dscFor([files[0]!, { ...files[1]!, sha256: "0".repeat(64) }]);
    expect(() => checkDscAgainstIndex(other, entry)).toThrow("hello_2.10-3.dsc does not list the files the Sources index names for hello 2.10-3");
    expect(() => checkDscAgainstIndex(dscFor(files, "2.10-4"), entry)).toThrow("does not list the files");
  });
});

describe("fetching a source package's files", () => {
  const setup = async (orig: string) => {
    const mirror = await tempDir("kiln-mirror-");
    await fs.mkdir(path.join(mirror, "pool/main/h/hello"), { recursive: true });
    for (const [name, body] of [[dscFile.name, DSC], [files[0]!.name, orig], [files[1]!.name, DEBIAN]] as const) await fs.writeFile(path.join(mirror, "pool/main/h/hello", name), body);
    const store = new ContentStore(await tempDir("kiln-cas-"));
    const settings = settingsSchema.parse({ apt: { mirrors: [`file://${mirror}`] } });
    const entry = { package: "hello", version: "2.10-3", archive: "debian" as const, directory: "pool/main/h/hello", files: [dscFile, ...files] };
    return { store, settings, entry };
  };

  it("fetches every file into the cache, each checked against the lock", async () => {
    const { store, settings, entry } = await setup(ORIG);
    const got = await fetchSourceFiles(entry, store, settings, () => {});
    expect([...got.keys()]).toEqual([dscFile.name, files[0]!.name, files[1]!.name]);
    expect(await fs.readFile(got.get(files[0]!.name)!, "utf8")).toBe(ORIG);
  });

  it("refuses a tampered orig tarball on the mirror, naming the file and both hashes", async () => {
    const { store, settings, entry } = await setup("tampered\n");
    await expect(fetchSourceFiles(entry, store, settings, () => {})).rejects.toThrow(`cannot fetch hello 2.10-3 hello_2.10.orig.tar.gz: file://`);
    await expect(fetchSourceFiles(entry, store, settings, () => {})).rejects.toThrow(`sha256 ${hashBytes("tampered\n")}, expected ${files[0]!.sha256}`);
  });

  it("offline, refuses a tampered cached .dsc, naming it and both hashes", async () => {
    const { store, settings, entry } = await setup(ORIG);
    const got = await fetchSourceFiles(entry, store, settings, () => {});
    await fs.writeFile(got.get(dscFile.name)!, "tampered");
    await expect(fetchSourceFiles(entry, store, { ...settings, offline: true }, () => {})).rejects.toThrow(
      `cached hello 2.10-3 hello_2.10-3.dsc does not match the lock: expected sha256 ${dscFile.sha256}, got ${hashBytes("tampered")}; it was removed from the cache`,
    );
  });
});
