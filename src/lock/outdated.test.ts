import { describe, expect, it } from "vitest";
import { deb, fixtureIndexSource } from "../../test/support/outdated-fixtures.ts";
import { CurrentIndices } from "../debian/updates.ts";
import { settingsSchema } from "../settings/schema.ts";
import { imagesPending, outdatedReport, renderOutdated } from "./outdated.ts";
import { type Lock, stableStringify } from "./schema.ts";

function lockOf(image: string, packages: Record<string, ReturnType<typeof deb>[]>, onTopOf?: string): Lock {
  return {
    lockVersion: 1,
    image,
    debian: { suite: "bookworm", snapshot: "20261201T021334Z", request: { set: "packages", packages: ["x"], foreignArchitectures: [], onTopOf }, packages },
    parents: onTopOf ? { [onTopOf]: { ref: "base:runtime", index: `sha256:${"1".repeat(64)}`, manifests: {} } } : undefined,
  };
}

const locks = [
  { image: "router", lock: lockOf("router", { amd64: [deb("libexpat1", "2.5.0-1+deb12u2", "amd64"), deb("tzdata", "2025b-0+deb12u1", "all")], arm64: [deb("tzdata", "2025b-0+deb12u1", "all")] }, "base-runtime") },
  { image: "dns", lock: lockOf("dns", { amd64: [deb("hello", "2.10-3", "amd64")], arm64: [deb("tzdata", "2026b-0+deb12u1", "all")] }) },
  { image: "time", lock: lockOf("time", { amd64: [deb("tzdata", "2025b-0+deb12u1", "all")], arm64: [deb("tzdata", "2025b-0+deb12u1", "all")] }) },
  { image: "plain", lock: { lockVersion: 1 as const, image: "plain" } },
];

describe("kiln outdated report", () => {
  const report = () => outdatedReport(locks, new CurrentIndices(fixtureIndexSource(), settingsSchema.parse({})));

  it("has a stable JSON shape: per image and lock architecture, sorted, with counts and the suites checked", async () => {
    const json = JSON.parse(stableStringify(await report()));
    expect(Object.keys(json)).toEqual(["images", "reportVersion", "security", "suites", "updates"]);
    expect(json.reportVersion).toBe(1);
    expect([json.updates, json.security]).toEqual([5, 1]);
    expect(json.suites.map((s: { suite: string }) => s.suite)).toEqual(["bookworm", "bookworm-updates", "bookworm-security"]);
    expect(json.images.map((i: { image: string }) => i.image)).toEqual(["dns", "router", "time"]);
    expect(json.images[1]).toEqual({
      image: "router",
      suite: "bookworm",
      snapshot: "20261201T021334Z",
      onTopOf: "base:runtime",
      packages: { amd64: 2, arm64: 1 },
      architectures: {
        amd64: [
          { name: "libexpat1", architecture: "amd64", locked: "2.5.0-1+deb12u2", available: "2.5.0-1+deb12u5", suite: "bookworm-security", security: true },
          { name: "tzdata", architecture: "all", locked: "2025b-0+deb12u1", available: "2026b-0+deb12u1", suite: "bookworm-updates", security: false },
        ],
        arm64: [{ name: "tzdata", architecture: "all", locked: "2025b-0+deb12u1", available: "2026b-0+deb12u1", suite: "bookworm-updates", security: false }],
      },
      refresh: "kiln refresh router --only debian",
    });
    expect(json.images[0]).toMatchObject({ image: "dns", onTopOf: null, refresh: null, architectures: { amd64: [], arm64: [] } });
  });

  it("renders one block per image, architectures that agree on one row, the refresh command, the suites", async () => {
    expect(renderOutdated(await report())).toBe(
      [
        "dns: up to date (1 package locked at 20261201T021334Z)",
        "router: 2 updates, 1 security (2 packages locked at 20261201T021334Z, on top of base:runtime)",
        "  libexpat1  2.5.0-1+deb12u2 -> 2.5.0-1+deb12u5  bookworm-security  security  amd64",
        "  tzdata     2025b-0+deb12u1 -> 2026b-0+deb12u1  bookworm-updates             amd64, arm64",
        "  refresh: kiln refresh router --only debian",
        "time: 1 update (1 package locked at 20261201T021334Z)",
        "  tzdata  2025b-0+deb12u1 -> 2026b-0+deb12u1  bookworm-updates    amd64, arm64",
        "  refresh: kiln refresh time --only debian",
        "checked against bookworm (Fri, 04 Dec 2026 03:54:28 UTC), bookworm-updates (Fri, 04 Dec 2026 03:54:28 UTC), bookworm-security (Fri, 04 Dec 2026 03:54:28 UTC)",
        "",
      ].join("\n"),
    );
  });

  it("names the images that fail --fail-on security and --fail-on any", async () => {
    const r = await report();
    expect(imagesPending(r, true)).toEqual(["router"]);
    expect(imagesPending(r, false)).toEqual(["router", "time"]);
  });

  it("says so when nothing is locked", async () => {
    const empty = await outdatedReport([locks[3]!], new CurrentIndices(fixtureIndexSource(), settingsSchema.parse({})));
    expect(renderOutdated(empty)).toBe("no locked Debian packages\n");
    expect(empty).toMatchObject({ images: [], suites: [], updates: 0, security: 0 });
  });
});
