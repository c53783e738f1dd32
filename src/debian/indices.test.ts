import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { settingsSchema } from "../settings/schema.ts";
import { otherSuiteSources, PackageTable, parsePackagesIndex, suiteSources } from "./indices.ts";
import { debianArch, parseDpkgQuery } from "./minbase.ts";
import { otherSuitePreferences, parseAptSimulation } from "./packages.ts";
import { snapshotOf } from "./resolve.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../../test/fixtures/debian");

describe("Packages index", () => {
  it("keeps stanzas with pool path, size and sha256; skips incomplete ones", async () => {
    const entries = parsePackagesIndex(await fs.readFile(path.join(FIXTURES, "Packages"), "utf8"), { archive: "debian", suite: "bookworm" });
    expect(entries.map((e) => `${e.name} ${e.version} ${e.architecture}`)).toEqual(["base-files 12.4+deb12u15 amd64", "tzdata 2026f-0+deb12u1 all"]);
    expect(entries[0]).toMatchObject({ path: "pool/main/b/base-files/base-files_12.4+deb12u15_amd64.deb", size: 70936, archive: "debian" });
    expect(entries[0]!.fields.Tag).toBe("admin::configuring, implemented-in::shell, protocol::ssl,\nrole::app-data, suite::debian");
  });

  it("looks packages up by name, version and architecture; the first suite wins a tie", () => {
    const table = new PackageTable();
    const e = { name: "apt", version: "2.6.2", architecture: "amd64", path: "p", size: 1, sha256: "a".repeat(64), fields: {} };
    table.add([{ ...e, archive: "debian-security", suite: "bookworm-security" }]);
    table.add([{ ...e, archive: "debian", suite: "bookworm" }]);
    expect(table.get("apt", "2.6.2", "amd64")?.archive).toBe("debian-security");
    expect(table.get("apt", "2.6.1", "amd64")).toBeUndefined();
  });

  it("a release is the suite, -updates and -security from the security mirrors", () => {
    const s = settingsSchema.parse({ apt: { mirrors: ["http://m1/debian", "http://m2/debian"], securityMirrors: ["http://s/debian-security"] } });
    expect(suiteSources("bookworm", s)).toEqual([
      { archive: "debian", suite: "bookworm", mirrors: ["http://m1/debian", "http://m2/debian"] },
      { archive: "debian", suite: "bookworm-updates", mirrors: ["http://m1/debian", "http://m2/debian"] },
      { archive: "debian-security", suite: "bookworm-security", mirrors: ["http://s/debian-security"] },
    ]);
  });

  it("the snapshot is the newest Release date of the suites", () => {
    const at = (date: string) => ({ release: { date, suite: "", codename: "", sha256: new Map() } });
    expect(snapshotOf([at("Sat, 11 Jul 2026 10:16:37 UTC"), at("Fri, 28 Nov 2026 02:53:00 UTC"), at("Thu, 27 Nov 2026 20:00:00 UTC")])).toBe("20261128T025300Z");
  });
});

describe("installed sets", () => {
  it("reads dpkg-query output, keeping installed packages only", () => {
    expect(parseDpkgQuery("apt\t2.6.2\tamd64\tinstalled\nold\t1\tamd64\tconfig-files\nusr-is-merged\t37~deb12u1\tall\tinstalled\n")).toEqual([
      { name: "apt", version: "2.6.2", architecture: "amd64" },
      { name: "usr-is-merged", version: "37~deb12u1", architecture: "all" },
    ]);
  });

  it("reads apt-get --simulate, foreign architectures included", () => {
    const out = [
      "Reading package lists...",
      "Inst libc6 (2.36-9+deb12u14 Debian:12.12/stable [amd64])",
      "Inst libc6:arm64 (2.36-9+deb12u14 Debian:12.12/stable [arm64])",
      "Inst ca-certificates (20230311+deb12u1 Debian:12.12/stable [all])",
      "Conf libc6 (2.36-9+deb12u14 Debian:12.12/stable [amd64])",
    ].join("\n");
    expect(parseAptSimulation(out, "amd64")).toEqual([
      { name: "libc6", version: "2.36-9+deb12u14", architecture: "amd64" },
      { name: "libc6", version: "2.36-9+deb12u14", architecture: "arm64" },
      { name: "ca-certificates", version: "20230311+deb12u1", architecture: "all" },
    ]);
  });

  it("takes other suites' packages at 990 and anything else there only as a last resort", () => {
    const settings = settingsSchema.parse({});
    const sources = otherSuiteSources({ trixie: ["golang-1.24-go"] }, settings);
    expect(sources).toEqual([{ archive: "debian", suite: "trixie", mirrors: ["http://deb.debian.org/debian"], takes: ["golang-1.24-go"] }]);
    const release = (codename: string) => ({ codename }) as never;
    const prefs = otherSuitePreferences([
      { release: release("bookworm") },
      { takes: ["golang-1.24-go", "golang-1.24-src"], release: release("trixie") },
    ]);
    expect(prefs).toBe(
      "Package: golang-1.24-go golang-1.24-src\nPin: release n=trixie\nPin-Priority: 990\n\nPackage: *\nPin: release n=trixie\nPin-Priority: 1\n",
    );
    expect(otherSuitePreferences([{ release: release("bookworm") }])).toBe("");
  });

  it("maps platforms to Debian architectures", () => {
    expect(debianArch("linux/amd64")).toBe("amd64");
    expect(debianArch("linux/arm64")).toBe("arm64");
    expect(debianArch("arm64")).toBe("arm64");
    expect(() => debianArch("linux/mips")).toThrow(/no Debian architecture/);
  });
});
