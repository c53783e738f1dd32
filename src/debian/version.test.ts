import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compareDebianVersions } from "./version.ts";

const sign = (n: number) => Math.sign(n);

/** Pairs whose order deb-version(7) spells out, written down here so the rules read without dpkg. */
const KNOWN: [string, "<" | "=" | ">", string][] = [
  ["1.0", "<", "1.1"],
  ["1.0", "=", "1.0"],
  ["1.0", "=", "0:1.0"],
  ["1.0", "=", "1.0-0"],
  ["1.0~rc1", "<", "1.0"],
  ["1.0~~", "<", "1.0~"],
  ["1.0~", "<", "1.0"],
  ["1.0", "<", "1.0a"],
  ["1.0a", "<", "1.0+"],
  ["1.0+", "<", "1.0.1"],
  ["1:0.1", ">", "9.9"],
  ["1.10", ">", "1.9"],
  ["1.010", "=", "1.10"],
  ["2.5.0-1+deb12u2", "<", "2.5.0-1+deb12u5"],
  ["1.0.9-2+b6", "<", "1.0.9-2+deb12u1"],
  ["20230311+deb12u1", "<", "20250419~deb12u2"],
  ["2.36-9+deb12u10", ">", "2.36-9+deb12u9"],
  ["1:9.18.49-1~deb12u1", "<", "1:9.18.49-1~deb12u3"],
  ["3.0.17-1~deb12u2", ">", "3.0.17-1~deb12u1"],
  ["3.0.17-1~deb12u2", "<", "3.0.17-1"],
  ["1.2-3-4", ">", "1.2-3"],
  ["0a", "<", "0b"],
  ["0Z", "<", "0a"],
];

describe("compareDebianVersions", () => {
  it.each(KNOWN)("%s %s %s", (a, op, b) => {
    const want = op === "<" ? -1 : op === "=" ? 0 : 1;
    expect(sign(compareDebianVersions(a, b))).toBe(want);
    expect(sign(compareDebianVersions(b, a))).toBe(want === 0 ? 0 : -want);
  });

  /**
   * dpkg is the reference: every version of the catalog's locks plus the tricky
   * ones above, sorted with our comparator; each neighbouring pair must be
   * ordered the same way by `dpkg --compare-versions` (one dpkg run per pair,
   * in one shell), which checks the whole order, not just chosen pairs.
   */
  it("orders every version of the catalog's locks as dpkg does", () => {
    const images = path.resolve(import.meta.dirname, "../../images");
    const versions = new Set(KNOWN.flatMap(([a, , b]) => [a, b]));
    for (const name of fs.readdirSync(images)) {
      const file = path.join(images, name, "kiln.lock.json");
      if (!fs.existsSync(file)) continue;
      const lock = JSON.parse(fs.readFileSync(file, "utf8")) as { debian?: { packages: Record<string, { version: string }[]> } };
      for (const debs of Object.values(lock.debian?.packages ?? {})) for (const d of debs) versions.add(d.version);
    }
    const sorted = [...versions].sort(compareDebianVersions);
    expect(sorted.length).toBeGreaterThan(200);
    const pairs = sorted.slice(1).map((b, i) => [sorted[i]!, b] as const);
    const script = 'while read -r a b; do if dpkg --compare-versions "$a" lt "$b"; then echo lt; elif dpkg --compare-versions "$a" eq "$b"; then echo eq; else echo gt; fi; done';
    const dpkg = execFileSync("sh", ["-c", script], { input: pairs.map(([a, b]) => `${a} ${b}`).join("\n") + "\n" }).toString().trim().split("\n");
    const ours = pairs.map(([a, b]) => (compareDebianVersions(a, b) < 0 ? "lt" : compareDebianVersions(a, b) === 0 ? "eq" : "gt"));
    const disagree = pairs.flatMap(([a, b], i) => (dpkg[i] === ours[i] ? [] : [`${a} ${ours[i]} ${b}, dpkg: ${dpkg[i]}`]));
    expect(disagree).toEqual([]);
    expect(dpkg).toHaveLength(pairs.length);
  }, 60_000);
});
