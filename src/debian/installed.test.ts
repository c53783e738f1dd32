import { describe, expect, it } from "vitest";
import { KilnError } from "../errors.ts";
import { parsePackageManifest, statusFileFor } from "./installed.ts";

describe("package manifests", () => {
  it("reads deb-install's lines and skips comments", () => {
    const text = "# package\tversion\tarchitecture\tsha256 (of the .deb)\nlibc6\t2.36-9+deb12u14\tamd64\tab12\nnetbase\t6.4\tall\tcd34\n";
    expect(parsePackageManifest(text, "m")).toEqual([
      { name: "libc6", version: "2.36-9+deb12u14", architecture: "amd64" },
      { name: "netbase", version: "6.4", architecture: "all" },
    ]);
  });

  it("refuses a line that is not a manifest line, naming the source", () => {
    expect(() => parsePackageManifest("libc6 2.36 amd64\n", "parent base-runtime usr/share/kiln/packages/x.tsv")).toThrow(KilnError);
    expect(() => parsePackageManifest("libc6 2.36 amd64\n", "parent base-runtime usr/share/kiln/packages/x.tsv")).toThrow(/x\.tsv: line 1 is not/);
  });

  it("renders a dpkg status that shows each package installed, without relations", () => {
    expect(statusFileFor([{ name: "libc6", version: "2.36-9", architecture: "amd64" }, { name: "tzdata", version: "2026f", architecture: "all" }])).toBe(
      "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\n\nPackage: tzdata\nStatus: install ok installed\nVersion: 2026f\nArchitecture: all\n",
    );
    expect(statusFileFor([])).toBe("");
  });
});
