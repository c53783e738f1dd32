/**
 * The freeze and downgrade attack: a mirror (or whoever sits in front of it)
 * serves an older InRelease, validly signed, so that a refresh keeps or brings
 * back versions with known holes. A Release's `Date` only moves forward, so
 * each suite's InRelease must be no older than the one the lock was made from:
 * per suite when the lock records their dates (`releaseDates`), else its
 * snapshot (the newest date of its suites) against the newest date now.
 */
import { KilnError } from "../errors.ts";
import { snapshotFromDate } from "./release.ts";

/** What a previous lock says about the InRelease files it was made from. */
export interface ReleaseFloor {
  /** Per suite, the Date of its InRelease (snapshot format, e.g. 20251115T091234Z). */
  suites: Readonly<Record<string, string>>;
  /** The newest of those dates, when the per-suite ones are not recorded and the suites are the same. */
  newest?: string;
  /** The lock file, for messages. */
  lockFile: string;
}

/** `20251115T091234Z` -> `2025-11-15T09:12:34Z`. */
export function readableSnapshot(snapshot: string): string {
  return snapshot.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z");
}

const HINT = "a replayed or frozen mirror: use one that is up to date (to go back in time on purpose, name the time with --snapshot)";

/** Refuses one suite's verified InRelease (dated `date`, RFC 2822) when it is older than the floor's date for that suite. */
export function checkNotOlder(url: string, suite: string, date: string, floor: ReleaseFloor | undefined): void {
  const recorded = floor?.suites[suite];
  if (!recorded) return;
  const now = snapshotFromDate(date);
  if (now < recorded) {
    throw new KilnError(`${url} is dated ${readableSnapshot(now)}, older than the ${readableSnapshot(recorded)} ${floor.lockFile} was made from`, HINT);
  }
}

/** Refuses a set of suites whose newest Date is older than the floor's newest (used when per-suite dates are not recorded). */
export function checkNewestNotOlder(suites: { suite: string; mirror: string; release: { date: string } }[], floor: ReleaseFloor | undefined): void {
  if (!floor?.newest || Object.keys(floor.suites).length || !suites.length) return;
  const dated = suites.map((s) => ({ s, at: snapshotFromDate(s.release.date) })).sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const newest = dated[0]!;
  if (newest.at < floor.newest) {
    const names = suites.map((s) => s.suite).join(", ");
    throw new KilnError(`the InRelease files of ${names} are dated ${readableSnapshot(newest.at)} at the newest (${newest.s.suite}), older than the ${readableSnapshot(floor.newest)} ${floor.lockFile} was made from`, HINT);
  }
}

/** Per suite, the Date of its verified InRelease, as a lock records it. */
export function releaseDatesOf(suites: { suite: string; release: { date: string } }[]): Record<string, string> {
  return Object.fromEntries(suites.map((s) => [s.suite, snapshotFromDate(s.release.date)]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
}
