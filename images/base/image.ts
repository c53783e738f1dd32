import { defineImage } from "../../src/index.ts";

/** Packages only the builder installs (cross parts for both directions: the lock keeps what each platform needs). */
const toolchain = [
  "build-essential",
  "crossbuild-essential-amd64",
  "crossbuild-essential-arm64",
  "libc6-dev:amd64",
  "libc6-dev:arm64",
  "git",
  "pkg-config",
  "file",
  "ca-certificates",
];

/** Go from trixie (bookworm's 1.19 is out of upstream support; Go 1.24 needs nothing newer from trixie). */
const fromTrixie = ["golang-1.24-go"];

/** The auditor: readelf, and the other architecture's C library to run foreign programs under qemu. */
const auditor = ["binutils", "libc6:amd64", "libc6:arm64", "libgcc-s1:amd64", "libgcc-s1:arm64"];

/** What the runtime is made of (context/runtime/assemble unpacks exactly these with deb-install). */
const runtimeFiles = ["base-files", "libc6", "libgcc-s1", "gcc-12-base", "bash", "libtinfo6", "tzdata", "netbase", "ca-certificates"];

export default defineImage({
  name: "base",
  category: "base",
  description: "Foundations of every app image: a cross-compiling builder, a minimal glibc runtime and a binary auditor",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { debian: "debian" },
  inputs: {
    debian: {
      suite: "bookworm",
      packages: [...new Set([...toolchain, ...auditor, ...runtimeFiles])],
      foreignArchitectures: ["amd64", "arm64"],
      fromSuites: { trixie: fromTrixie },
    },
  },
  defaultTarget: "runtime",
  outputs: { names: ["kiln/base"] },
  metadata: {
    title: "kiln base",
    licenses: "Apache-2.0",
  },
  targets: {
    builder: {
      description: "gcc, cross gcc for amd64 and arm64 (dpkg multiarch), Go 1.24, git, pkg-config; hardening flags and cross-env",
      outputs: { tags: ["builder", "builder-{snapshotDate}"] },
      runtime: { tooling: true, healthcheck: false, user: "0" },
    },
    runtime: {
      description: "glibc, bash, CA bundle, time zones; user 2000; /boot /config /data /certs; no package manager or compiler",
      outputs: { tags: ["runtime", "runtime-{snapshotDate}", "latest"] },
      runtime: {
        healthcheck: false,
        volumes: ["/data", "/certs"],
        sizeBudgetMB: 8,
        tests: [
          { name: "runs bash as uid 2000", command: ["bash", "-c", "echo $UID $BASH_VERSION"], outputContains: ["2000 5."] },
          { name: "CA bundle present", command: ["bash", "-c", "read -r l < /etc/ssl/certs/ca-certificates.crt; echo $l"], outputContains: ["BEGIN CERTIFICATE"] },
          { name: "refuses to run nothing", command: [], exitCode: 64, outputContains: ["nothing to run"] },
        ],
      },
    },
    auditor: {
      description: "binutils, the other architecture's libc and `audit`: PIE, RELRO, BIND_NOW, stack protector, fortify, linkage, runs",
      outputs: { tags: ["auditor", "auditor-{snapshotDate}"] },
      runtime: {
        tooling: true,
        healthcheck: false,
        user: "0",
        tests: [{ name: "audit explains itself", entrypoint: ["audit"], command: ["--help"], outputContains: ["PIE"] }],
      },
    },
  },
});
