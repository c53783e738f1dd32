/**
 * The keyring InRelease files must be signed with: never the host's
 * /usr/share/keyrings, which any package or admin may change, but one kiln
 * pins. By default Debian's own `debian-archive-keyring` package, pinned here
 * by version, pool path, size and sha256, fetched from the configured mirrors
 * into the content cache and unpacked with dpkg-deb; its keyring file is
 * pinned by sha256 too, so a cached copy is re-checked at every use. A site
 * with its own archive (or a test mirror) names its keyring in
 * `apt.archiveKeyring`, pinned by sha256 in the same way.
 */
import { createReadStream } from "node:fs";
import path from "node:path";
import { KilnError } from "../errors.ts";
import type { Settings } from "../settings/schema.ts";
import { type ContentStore, HashMismatchError, hashFile } from "../util/cas.ts";
import { run } from "../util/run.ts";
import { withTempDir } from "../util/temp.ts";
import { fetchIntoStore } from "./download.ts";

/** Debian 12's archive keyring (it holds the bullseye, bookworm and trixie keys). */
export const PINNED_ARCHIVE_KEYRING = {
  package: "debian-archive-keyring",
  version: "2023.3+deb12u2",
  path: "pool/main/d/debian-archive-keyring/debian-archive-keyring_2023.3+deb12u2_all.deb",
  size: 178572,
  sha256: "f699e2f88dca05212f2a452b58475f2993cb6993dfbafb1d0205a3291eb8b4b8",
  /** The keyring file inside the package, and its sha256. */
  member: "usr/share/keyrings/debian-archive-keyring.gpg",
  memberSha256: "506b815cbb32d9b6066b4a2aa524071e071761e7e7f68c3ac74f3061ba852017",
} as const;

/** A keyring InRelease signatures are checked against: a verified file in the cache, and how to name it. */
export interface PinnedKeyring {
  path: string;
  name: string;
}

/** The keyring the settings pin: `apt.archiveKeyring`, else Debian's archive keyring package. */
export async function archiveKeyring(settings: Settings, store: ContentStore): Promise<PinnedKeyring> {
  const own = settings.apt.archiveKeyring;
  return own ? siteKeyring(own, store) : debianKeyring(settings, store);
}

/** The site's keyring, copied into the cache only when it has the pinned sha256 (the copy is what gpgv reads). */
async function siteKeyring(own: { file: string; sha256: string }, store: ContentStore): Promise<PinnedKeyring> {
  const name = `apt.archiveKeyring ${own.file}`;
  const cached = await store.getVerified("sha256", own.sha256);
  if (cached) return { path: cached, name };
  try {
    return { path: (await store.put(createReadStream(own.file), "sha256", own.sha256, name)).path, name };
  } catch (e) {
    if (e instanceof HashMismatchError) throw new KilnError(`${name} has sha256 ${e.actual}, not the pinned ${own.sha256}`, "the keyring changed: check it, then set apt.archiveKeyring.sha256 to its new sha256");
    throw new KilnError(`cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, "fix apt.archiveKeyring.file in the site settings");
  }
}

async function debianKeyring(settings: Settings, store: ContentStore): Promise<PinnedKeyring> {
  const pin = PINNED_ARCHIVE_KEYRING;
  const name = `${pin.package} ${pin.version}`;
  const cached = await store.getVerified("sha256", pin.memberSha256);
  if (cached) return { path: cached, name };
  const deb = (await store.getVerified("sha256", pin.sha256)) ?? (await fetchIntoStore(store, settings.apt.mirrors, pin.path, pin.sha256, settings, `${name} (the pinned Debian archive keyring)`, pin.size));
  return withTempDir("kiln-keyring-", async (dir) => {
    await run("dpkg-deb", ["-x", deb, dir], { what: `unpack ${name}` });
    const file = path.join(dir, pin.member);
    const hex = await hashFile(file).catch(() => "missing");
    if (hex !== pin.memberSha256) throw new KilnError(`${name} holds ${pin.member} with sha256 ${hex}, not the pinned ${pin.memberSha256}`, "the pin in src/debian/archive-keyring.ts is wrong");
    return { path: (await store.put(createReadStream(file), "sha256", pin.memberSha256, name)).path, name };
  });
}
