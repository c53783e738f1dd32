/**
 * The lock: every external input of one image, pinned by content address.
 * One JSON file per image (`images/<name>/kiln.lock.json`), keys in a stable
 * order so that a diff reads well and an unchanged world rewrites it byte for byte.
 */
import { z } from "zod";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256");
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "an OCI digest `sha256:<hex>`");
/** snapshot.debian.org timestamp, e.g. 20261129T000000Z */
export const snapshotTimestamp = z.string().regex(/^\d{8}T\d{6}Z$/, "a snapshot timestamp like 20261129T000000Z");

export const lockedDebSchema = z.strictObject({
  name: z.string(),
  version: z.string(),
  architecture: z.string(),
  /** Archive the pool path is relative to: `debian` or `debian-security`. */
  archive: z.enum(["debian", "debian-security"]),
  path: z.string(),
  size: z.number().int().nonnegative(),
  sha256,
});

export const debianLockSchema = z.strictObject({
  suite: z.string(),
  snapshot: snapshotTimestamp,
  /** Per suite, the Date of the signed InRelease it was made from (snapshot format): `kiln refresh` refuses older ones. */
  releaseDates: z.record(z.string(), snapshotTimestamp).optional(),
  /** What was requested (minbase or a package list): used by `lock --check`. */
  request: z.strictObject({
    set: z.enum(["minbase", "packages"]),
    packages: z.array(z.string()),
    foreignArchitectures: z.array(z.string()),
    /** The parent whose packages (its deb-install manifests) were taken as installed. */
    onTopOf: z.string().optional(),
    /** Packages taken from another suite (each suite's InRelease verified like the image's own). */
    fromSuites: z.record(z.string(), z.array(z.string())).optional(),
  }),
  /** sha256 of the `request.onTopOf` parent's package set the closure was resolved on (a new parent digest with the same set keeps the lock). */
  onTopOfSha256: sha256.optional(),
  /** Per Debian architecture of the target platform, what the image installs (on top of `request.onTopOf` when set). */
  packages: z.record(z.string(), z.array(lockedDebSchema)),
});

export const gitLockSchema = z.strictObject({ url: z.string(), ref: z.string(), commit: z.string().regex(/^[0-9a-f]{40}$/, "a full commit id") });

export const downloadLockSchema = z.strictObject({
  url: z.string(),
  sha256: sha256.optional(),
  sha512: z.string().regex(/^[0-9a-f]{128}$/).optional(),
  signature: z.strictObject({ url: z.string(), fingerprint: z.string(), sha256 }).optional(),
});

export const sourceFileSchema = z.strictObject({ name: z.string(), size: z.number().int().nonnegative(), sha256 });

export const debianSourceLockSchema = z.strictObject({
  package: z.string(),
  version: z.string(),
  suite: z.string(),
  /** The newest Release date of the suites it was resolved at. */
  snapshot: snapshotTimestamp,
  archive: z.enum(["debian", "debian-security"]),
  /** Pool folder of the files. */
  directory: z.string(),
  /** The .dsc first, then every file it lists. */
  files: z.array(sourceFileSchema).min(1),
  /** What was requested: used by `lock --check`. */
  request: z.strictObject({ version: z.string().optional(), profiles: z.array(z.string()), onTopOf: z.string().optional(), buildDependsFor: z.literal("build").optional() }),
  /** sha256 of the `request.onTopOf` parent's dpkg status per build architecture the closure was resolved on. */
  onTopOfSha256: sha256.optional(),
  /** Build architecture -> target architecture -> the build-dependencies to install (on top of `request.onTopOf`). */
  buildDepends: z.record(z.string(), z.record(z.string(), z.array(lockedDebSchema))),
});

export const npmPackageLockSchema = z.strictObject({
  /** The package's path in the lockfile, e.g. `node_modules/foo`. */
  path: z.string(),
  version: z.string(),
  url: z.string(),
  sha512: z.string().regex(/^[0-9a-f]{128}$/),
});

export const npmLockSchema = z.strictObject({
  /** The package-lock.json, relative to the definition's folder. */
  lockfile: z.string(),
  /** sha256 of that file when it was locked. */
  sha256,
  packages: z.array(npmPackageLockSchema),
});

export const parentLockSchema = z.strictObject({
  ref: z.string(),
  index: digest,
  manifests: z.record(z.string(), digest),
});

export const lockSchema = z.strictObject({
  lockVersion: z.literal(1),
  image: z.string(),
  debian: debianLockSchema.optional(),
  git: z.record(z.string(), gitLockSchema).optional(),
  /** name -> platform (`linux/amd64`, or `any` when the URL is shared) -> pin */
  downloads: z.record(z.string(), z.record(z.string(), downloadLockSchema)).optional(),
  parents: z.record(z.string(), parentLockSchema).optional(),
  debianSource: z.record(z.string(), debianSourceLockSchema).optional(),
  npm: z.record(z.string(), npmLockSchema).optional(),
});

export type Lock = z.output<typeof lockSchema>;
export type DebianLock = z.output<typeof debianLockSchema>;
export type LockedDeb = z.output<typeof lockedDebSchema>;
export type GitLock = z.output<typeof gitLockSchema>;
export type DownloadLock = z.output<typeof downloadLockSchema>;
export type ParentLock = z.output<typeof parentLockSchema>;
export type DebianSourceLock = z.output<typeof debianSourceLockSchema>;
export type NpmLock = z.output<typeof npmLockSchema>;

/** JSON with object keys sorted (arrays keep their order) and a final newline. */
export function stableStringify(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value), null, 2) + "\n";
}

/** The SOURCE_DATE_EPOCH a snapshot timestamp stands for. */
export function snapshotToEpoch(ts: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(ts);
  if (!m) throw new Error(`bad snapshot timestamp ${ts}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
}
