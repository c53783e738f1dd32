/**
 * The cross-compile helper shipped in base:builder (images/base/context/cross-env),
 * run with bash on the host exactly as a Dockerfile step runs it.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/paths.ts";

const SCRIPT = path.join(REPO_ROOT, "images/base/context/cross-env");

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync("/bin/bash", ["--norc", SCRIPT, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Evaluates the printed exports in a clean bash and reads them back. */
function exportsFor(env: Record<string, string>): Record<string, string> {
  const r = spawnSync("/bin/bash", ["--norc", "-c", `eval "$(/bin/bash --norc "$0")" && env -0`, SCRIPT], {
    encoding: "utf8",
    // Not a socket on stdin: bash would read ~/.bashrc as if started by rshd.
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
  });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return Object.fromEntries(
    r.stdout
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
}

const MAPPINGS: [arch: string, variant: string, debarch: string, triplet: string, goarch: string, goarm: string][] = [
  ["amd64", "", "amd64", "x86_64-linux-gnu", "amd64", ""],
  ["amd64", "v3", "amd64", "x86_64-linux-gnu", "amd64", ""],
  ["arm64", "", "arm64", "aarch64-linux-gnu", "arm64", ""],
  ["arm64", "v8", "arm64", "aarch64-linux-gnu", "arm64", ""],
  ["arm", "v7", "armhf", "arm-linux-gnueabihf", "arm", "7"],
  ["arm", "", "armhf", "arm-linux-gnueabihf", "arm", "7"],
  ["arm", "v6", "armel", "arm-linux-gnueabi", "arm", "6"],
  ["arm", "v5", "armel", "arm-linux-gnueabi", "arm", "5"],
  ["386", "", "i386", "i686-linux-gnu", "386", ""],
  ["ppc64le", "", "ppc64el", "powerpc64le-linux-gnu", "ppc64le", ""],
  ["s390x", "", "s390x", "s390x-linux-gnu", "s390x", ""],
  ["riscv64", "", "riscv64", "riscv64-linux-gnu", "riscv64", ""],
  ["mips64le", "", "mips64el", "mips64el-linux-gnuabi64", "mips64le", ""],
];

describe("cross-env mappings", () => {
  it.each(MAPPINGS)("%s/%s -> %s %s", (arch, variant, debarch, triplet, goarch, goarm) => {
    const e = exportsFor({ TARGETARCH: arch, TARGETVARIANT: variant });
    expect(e.DEB_HOST_ARCH).toBe(debarch);
    expect(e.DEB_HOST_MULTIARCH).toBe(triplet);
    expect(e.CC).toBe(`${triplet}-gcc`);
    expect(e.CXX).toBe(`${triplet}-g++`);
    expect(e.AR).toBe(`${triplet}-ar`);
    expect(e.STRIP).toBe(`${triplet}-strip`);
    expect(e.PKG_CONFIG).toBe(`${triplet}-pkg-config`);
    expect(e.GOOS).toBe("linux");
    expect(e.GOARCH).toBe(goarch);
    expect(e.GOARM).toBe(goarm);
  });

  it("takes the target from --target ARCH/VARIANT over the environment", () => {
    const r = run(["--target", "arm/v6", "DEB_HOST_ARCH", "GOARM"], { TARGETARCH: "amd64" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("armel\n6\n");
  });

  it.each([
    ["mips", ""],
    ["arm", "v8"],
    ["arm64", "v9"],
    ["x86_64", ""],
  ])("rejects %s/%s with one clear line", (arch, variant) => {
    const r = run([], { TARGETARCH: arch, TARGETVARIANT: variant });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("exit 2\n");
    expect(r.stderr).toBe(
      `cross-env: unsupported target platform linux/${arch}${variant ? `/${variant}` : ""} (supported: amd64, arm64, arm/v7, arm/v6, arm/v5, 386, ppc64le, s390x, riscv64, mips64le)\n`,
    );
  });

  it("stops a shell that evals its output on error", () => {
    const r = spawnSync("/bin/bash", ["--norc", "-c", `eval "$(/bin/bash --norc "$0")"; echo continued`, SCRIPT], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: "/usr/bin:/bin", TARGETARCH: "sparc64" },
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^cross-env: unsupported target platform linux\/sparc64 /);
  });

  it("says how to fix a missing TARGETARCH", () => {
    const r = run([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cross-env: TARGETARCH is not set .*ARG TARGETARCH/);
  });

  it("rejects unknown variables and options", () => {
    expect(run(["NOPE"], { TARGETARCH: "amd64" }).stderr).toMatch(/^cross-env: unknown variable NOPE \(known: AR CC /);
    expect(run(["--frob"], { TARGETARCH: "amd64" }).code).toBe(2);
    expect(run([], { TARGETARCH: "amd64", CROSS_LINK: "shared" }).stderr).toBe("cross-env: CROSS_LINK must be dynamic or static, not 'shared'\n");
    expect(run([], { TARGETARCH: "amd64", CROSS_CGO: "yes" }).stderr).toBe("cross-env: CROSS_CGO must be 0 or 1, not 'yes'\n");
  });
});

describe("cross-env rules", () => {
  it("hardens C by default: fortify, strong protector, stack clash, PIE, full RELRO", () => {
    const e = exportsFor({ TARGETARCH: "arm64" });
    for (const flag of ["-O2", "-D_FORTIFY_SOURCE=2", "-fstack-protector-strong", "-fstack-clash-protection", "-fPIE"]) {
      expect(e.CFLAGS!.split(" ")).toContain(flag);
      expect(e.CXXFLAGS!.split(" ")).toContain(flag);
    }
    expect(e.LDFLAGS!.split(" ")).toEqual(["-Wl,-z,relro,-z,now", "-Wl,--build-id=sha1", "-pie"]);
  });

  it("links static PIE with CROSS_LINK=static", () => {
    const e = exportsFor({ TARGETARCH: "amd64", CROSS_LINK: "static" });
    expect(e.LDFLAGS!.split(" ")).toContain("-static-pie");
    expect(e.LDFLAGS!.split(" ")).not.toContain("-pie");
  });

  it("builds pure static Go by default, PIE cgo on request", () => {
    const pure = exportsFor({ TARGETARCH: "arm64" });
    expect(pure.CGO_ENABLED).toBe("0");
    expect(pure.GOFLAGS).toBe("-trimpath -buildvcs=false");
    const cgo = exportsFor({ TARGETARCH: "arm64", CROSS_CGO: "1" });
    expect(cgo.CGO_ENABLED).toBe("1");
    expect(cgo.GOFLAGS).toBe("-trimpath -buildvcs=false -buildmode=pie");
    expect(cgo.CGO_LDFLAGS).toContain("-Wl,-z,relro,-z,now");
    const cgoStatic = exportsFor({ TARGETARCH: "arm64", CROSS_CGO: "1", CROSS_LINK: "static" });
    expect(cgoStatic.GO_LDFLAGS).toBe("-s -w -buildid= -linkmode=external -extldflags=-static-pie");
  });

  it("--check fails naming the missing compiler", () => {
    const r = run(["--check"], { TARGETARCH: "s390x", PATH: "/nonexistent" });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("cross-env: s390x-linux-gnu-gcc not found: the toolchain for linux/s390x is not installed in this image\n");
  });
});
