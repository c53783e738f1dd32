import { describe, expect, it } from "vitest";
import { formatRebuild, type RebuildResult } from "./rebuild.ts";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const base: RebuildResult = {
  ref: "router:image",
  image: "router",
  target: "image",
  revision: "c".repeat(40),
  catalog: "/src/catalog",
  parents: [
    { ref: "base:runtime", digest: d("1"), from: "local store" },
    { ref: "base:builder", digest: d("2"), from: "rebuilt" },
  ],
  identical: true,
  rebuilt: d("a"),
  lock: { attached: d("l"), rebuilt: d("l") },
};

describe("formatRebuild", () => {
  it("says where each parent came from, then identical and the same lock attachment", () => {
    expect(formatRebuild(base)).toBe(
      [
        `router:image from /src/catalog at ${"c".repeat(40)}`,
        `  parent base:runtime ${d("1")} (from the local store)`,
        `  parent base:builder ${d("2")} (rebuilt from the checkout)`,
        `identical: ${d("a")}`,
        `  lock attachment ${d("l")} (attached again, the same)`,
        "",
      ].join("\n"),
    );
  });

  it("says which other attachments (SBOMs) the rebuild attached again, and names any it did not", () => {
    const attachments = [
      { digest: d("s"), artifactType: "application/spdx+json", platform: "linux/amd64", again: true },
      { digest: d("x"), artifactType: "application/vnd.cyclonedx+json", platform: "linux/amd64", again: true },
      { digest: d("y"), artifactType: "application/spdx+json", platform: "linux/arm64", again: false, rebuiltDigest: d("z") },
    ];
    expect(formatRebuild({ ...base, parents: [], attachments }).split("\n").slice(2)).toEqual([
      `  lock attachment ${d("l")} (attached again, the same)`,
      "  2 other attachments (application/spdx+json, application/vnd.cyclonedx+json) attached again, the same",
      `  application/spdx+json (linux/arm64) ${d("y")}: the rebuild attached another, ${d("z")}`,
      "",
    ]);
  });

  it("never claims the rebuild attached an SBOM it did not attach", () => {
    const attachments = [{ digest: d("y"), artifactType: "application/spdx+json", platform: "linux/arm64", again: false }];
    const out = formatRebuild({ ...base, parents: [], attachments });
    expect(out).toContain(`  application/spdx+json (linux/arm64) ${d("y")}: the rebuild attached none (no SBOM could be made: see the build's message above)\n`);
    expect(out).not.toContain("attached another");
  });

  it("prints the diff, indented, when the rebuild differs", () => {
    const out = formatRebuild({ ...base, parents: [], identical: false, rebuilt: d("b"), diffText: "linux/amd64 layer 3\n  boot/entrypoint.sh: content\n" });
    expect(out).toBe(`router:image from /src/catalog at ${"c".repeat(40)}\ndifferent: rebuilt ${d("b")}\n  linux/amd64 layer 3\n    boot/entrypoint.sh: content\n`);
  });
});
