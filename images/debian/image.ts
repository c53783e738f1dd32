import { defineImage } from "../../src/definition/schema.ts";

export default defineImage({
  name: "debian",
  category: "base",
  description: "Debian 12 (bookworm) minbase, slim, built bit for bit reproducibly from locked packages; apt points at the locked snapshot",
  platforms: ["linux/amd64", "linux/arm64"],
  inputs: {
    // The rootfs is made before the build (mmdebstrap from the locked .debs)
    // and handed to the Dockerfile as rootfs-<arch>.tar.
    debian: { set: "minbase", suite: "bookworm" },
  },
  outputs: {
    names: ["kiln/debian"],
    tags: ["bookworm-{snapshotDate}", "bookworm-latest", "latest"],
  },
  metadata: {
    title: "kiln debian",
    description: "Debian bookworm minbase (merged /usr, slim), reproducible from kiln.lock.json",
    // Each package carries its own terms in /usr/share/doc/<package>/copyright.
    licenses: "GPL-2.0-or-later AND LicenseRef-Debian-Package-Copyrights",
  },
  runtime: {
    // A base for other images, with apt: a tool image, not a service.
    tooling: true,
    healthcheck: false,
    user: "0",
    tests: [
      { name: "debian release", command: ["cat", "/etc/debian_version"], entrypoint: [], outputContains: ["12."] },
      { name: "apt sources at the snapshot", command: ["cat", "/etc/apt/sources.list.d/debian.sources"], entrypoint: [], outputContains: ["snapshot.debian.org/archive/debian/", "bookworm-security"] },
      { name: "dpkg works", command: ["dpkg-query", "-W", "base-files"], entrypoint: [], outputContains: ["base-files"] },
    ],
  },
});
