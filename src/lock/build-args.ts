/**
 * Lock values as build args, so a Dockerfile never types a pin itself:
 *   DEBIAN_SNAPSHOT, DEBIAN_SUITE
 *   GIT_<NAME>_URL, GIT_<NAME>_REF, GIT_<NAME>_COMMIT
 *   DOWNLOAD_<NAME>_URL, DOWNLOAD_<NAME>_SHA256 (or _SHA512)    one URL for all platforms
 *   DOWNLOAD_<NAME>_<ARCH>_URL, DOWNLOAD_<NAME>_<ARCH>_SHA256  per platform
 *   PARENT_<NAME>_DIGEST                                       the parent's index digest
 *   DEBIAN_SOURCE_<NAME>_PACKAGE, _VERSION, _DSC               a Debian source package (the .dsc's file name)
 * Build args are shared by all platforms of one build; with `platform` given,
 * the per-platform download pins of that platform are also set unsuffixed.
 */
import { argName } from "./declared.ts";
import { ANY_PLATFORM, archOf } from "./download.ts";
import type { DownloadLock, Lock } from "./schema.ts";

export function lockBuildArgs(lock: Lock | undefined, platform?: string): Record<string, string> {
  const args: Record<string, string> = {};
  if (!lock) return args;
  if (lock.debian) {
    args.DEBIAN_SNAPSHOT = lock.debian.snapshot;
    args.DEBIAN_SUITE = lock.debian.suite;
  }
  for (const [name, g] of Object.entries(lock.git ?? {})) {
    const n = `GIT_${argName(name)}`;
    Object.assign(args, { [`${n}_URL`]: g.url, [`${n}_REF`]: g.ref, [`${n}_COMMIT`]: g.commit });
  }
  const put = (prefix: string, d: DownloadLock) => {
    args[`${prefix}_URL`] = d.url;
    if (d.sha256) args[`${prefix}_SHA256`] = d.sha256;
    if (d.sha512) args[`${prefix}_SHA512`] = d.sha512;
  };
  for (const [name, entries] of Object.entries(lock.downloads ?? {})) {
    const n = `DOWNLOAD_${argName(name)}`;
    for (const [key, d] of Object.entries(entries)) {
      if (key === ANY_PLATFORM || key === platform) put(n, d);
      if (key !== ANY_PLATFORM) put(`${n}_${argName(archOf(key))}`, d);
    }
  }
  for (const [name, p] of Object.entries(lock.parents ?? {})) args[`PARENT_${argName(name)}_DIGEST`] = p.index;
  for (const [name, s] of Object.entries(lock.debianSource ?? {})) {
    const n = `DEBIAN_SOURCE_${argName(name)}`;
    Object.assign(args, { [`${n}_PACKAGE`]: s.package, [`${n}_VERSION`]: s.version, [`${n}_DSC`]: s.files[0]!.name });
  }
  return args;
}
