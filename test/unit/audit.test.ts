/**
 * The binary auditor shipped in base:auditor (images/base/context/audit), run
 * with bash on the host against programs compiled here with and without hardening.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/paths.ts";

const AUDIT = path.join(REPO_ROOT, "images/base/context/audit");
const SOURCE = path.join(REPO_ROOT, "images/base/context/healthcheck/healthcheck.c");
const HARDENED = ["-O2", "-D_FORTIFY_SOURCE=2", "-fstack-protector-strong", "-fstack-clash-protection", "-fPIE", "-pie", "-Wl,-z,relro,-z,now"];
const hasGcc = spawnSync("gcc", ["--version"]).status === 0;
let dir: string;
let runtimeLibs: string;

function gcc(out: string, flags: string[], libs: string[] = []) {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const r = spawnSync("gcc", [...flags, "-o", out, SOURCE, ...libs], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
}

function audit(args: string[]) {
  const r = spawnSync("/bin/bash", ["--norc", AUDIT, "--runtime-libs", runtimeLibs, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!hasGcc) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-audit-"));
  runtimeLibs = path.join(dir, "runtime-libs");
  fs.writeFileSync(runtimeLibs, "libc.so.6\nld-linux-x86-64.so.2\n");
  gcc(path.join(dir, "good/boot/healthcheck"), HARDENED);
  gcc(path.join(dir, "weak/boot/weak"), ["-O0", "-fno-stack-protector", "-no-pie", "-Wl,-z,lazy", "-Wl,-z,norelro"]);
  gcc(path.join(dir, "needs/boot/needs"), HARDENED, ["-Wl,--no-as-needed", "-lm"]);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasGcc)("audit", () => {
  it("passes a hardened program and names every check", () => {
    const r = audit(["--arch", "amd64", path.join(dir, "good")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("healthcheck [dynamic]: arch pie relro bindnow canary fortify runs libs");
    expect(r.stdout).toMatch(/audit: 1 binaries passed\n$/);
  });

  it("fails an unhardened program, one line per broken promise", () => {
    const r = audit([path.join(dir, "weak")]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines.map((l) => l.replace(/^audit: FAIL \S+ \[dynamic\]: (\w+).*$/, "$1"))).toEqual(["pie", "relro", "bindnow", "canary", "fortify", "audit: 1 of 1 binaries failed"]);
    expect(lines[0]).toContain("weak/boot/weak");
  });

  it("honours declared exceptions per binary", () => {
    const r = audit(["--skip", "weak:pie,relro,bindnow", "--skip", "boot/weak:canary", "--skip", "fortify", path.join(dir, "weak")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("weak [dynamic]: runs libs");
  });

  it("fails a library neither shipped nor in the runtime", () => {
    const r = audit([path.join(dir, "needs")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAIL \S+needs \[dynamic\]: libs \(needs libm.so.6, shipped by neither the image nor the runtime\)/);
  });

  it("fails the wrong architecture, static expectations and programs that do not run", () => {
    const r = audit(["--arch", "arm64", "--static", "yes", "--run", "healthcheck=--bogus", path.join(dir, "good")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("arch (built for Advanced Micro Devices X86-64, not arm64)");
    expect(r.stderr).toContain("static (dynamically linked)");
    expect(r.stderr).toContain("runs (did not run: 'healthcheck --bogus' failed)");
  });

  it("refuses bad usage with exit 2", () => {
    expect(audit([]).stderr).toBe("audit: no path to audit (usage: audit [options] PATH...)\n");
    expect(audit(["--skip", "aslr", dir]).stderr).toBe("audit: unknown check 'aslr' (checks: arch pie relro bindnow canary fortify runs libs)\n");
    const empty = fs.mkdtempSync(path.join(dir, "empty-"));
    const r = audit([empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`audit: no ELF binaries under ${empty}\n`);
  });
});
