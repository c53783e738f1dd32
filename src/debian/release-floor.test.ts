import { describe, expect, it } from "vitest";
import { checkNewestNotOlder, checkNotOlder, readableSnapshot, releaseDatesOf } from "./release-floor.ts";

const floor = { suites: { bookworm: "20261201T000000Z" }, lockFile: "images/app/kiln.lock.json" };
const at = (suite: string, date: string) => ({ suite, mirror: "http://m/debian", release: { date } });

describe("InRelease dates against the lock", () => {
  it("accepts the same or a newer Date, refuses an older one naming both dates", () => {
    expect(() => checkNotOlder("http://m/debian/dists/bookworm/InRelease", "bookworm", "Tue, 01 Dec 2026 00:00:00 UTC", floor)).not.toThrow();
    expect(() => checkNotOlder("http://m/debian/dists/bookworm/InRelease", "bookworm", "Wed, 02 Dec 2026 08:00:00 UTC", floor)).not.toThrow();
    expect(() => checkNotOlder("http://m/debian/dists/bookworm/InRelease", "bookworm", "Mon, 30 Nov 2026 23:59:59 UTC", floor)).toThrow(
      "http://m/debian/dists/bookworm/InRelease is dated 2026-11-30T23:59:59Z, older than the 2026-12-01T00:00:00Z images/app/kiln.lock.json was made from",
    );
  });

  it("compares nothing for a suite the lock does not date, or without a lock", () => {
    expect(() => checkNotOlder("u", "trixie", "Mon, 01 Jan 2024 00:00:00 UTC", floor)).not.toThrow();
    expect(() => checkNotOlder("u", "bookworm", "Mon, 01 Jan 2024 00:00:00 UTC", undefined)).not.toThrow();
  });

  it("without per-suite dates: the newest Date now against the lock's snapshot", () => {
    const old = { suites: {}, newest: "20261201T000000Z", lockFile: "images/app/kiln.lock.json" };
    expect(() => checkNewestNotOlder([at("bookworm", "Sat, 01 Aug 2026 00:00:00 UTC"), at("bookworm-security", "Tue, 01 Dec 2026 00:00:00 UTC")], old)).not.toThrow();
    expect(() => checkNewestNotOlder([at("bookworm", "Sat, 01 Aug 2026 00:00:00 UTC"), at("bookworm-security", "Sun, 29 Nov 2026 00:00:00 UTC")], old)).toThrow(
      "the InRelease files of bookworm, bookworm-security are dated 2026-11-29T00:00:00Z at the newest (bookworm-security), older than the 2026-12-01T00:00:00Z images/app/kiln.lock.json was made from",
    );
    // per-suite dates, when recorded, decide instead
    expect(() => checkNewestNotOlder([at("bookworm", "Sat, 01 Aug 2026 00:00:00 UTC")], { ...old, suites: { bookworm: "20260801T000000Z" } })).not.toThrow();
  });

  it("records each suite's Date in snapshot form, suites in order", () => {
    expect(releaseDatesOf([at("bookworm-security", "Tue, 01 Dec 2026 10:11:12 UTC"), at("bookworm", "Sat, 01 Aug 2026 00:00:00 UTC")])).toEqual({ bookworm: "20260801T000000Z", "bookworm-security": "20261201T101112Z" });
    expect(readableSnapshot("20261201T101112Z")).toBe("2026-12-01T10:11:12Z");
  });
});
