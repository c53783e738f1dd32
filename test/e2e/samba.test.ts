/**
 * images/samba on the real engine, built once (`kiln verify samba` checks it bit
 * for bit): smbd from Debian's Samba 4.17, only the programs and the libraries
 * they link (no Python, no AD DC, no NetBIOS), run as uid 2000 with no
 * capabilities on port 4450. `kiln test` proves it on amd64 and arm64 (qemu) with
 * smbclient from the tools image: shares listed, a file put, listed and got back
 * byte-identical (sha256), wrong password and unknown user refused
 * (NT_STATUS_LOGON_FAILURE), a read-only share and a share of another user
 * refusing, the file still there after a restart on the same /data, and a Time
 * Machine share (vfs fruit) keeping Apple metadata streams. A samba whose shares
 * refuse writes (test/fixtures/samba-read-only) fails exactly the put, naming the rule.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, readImage, type Built, proofPlatforms, proofPlatformFlags } from "./base-family.ts";
import { kiln, REPO } from "./helpers.ts";

const env = familyEnv();
const READ_ONLY = path.join(REPO, "test/fixtures/samba-read-only");
let samba: Built;

beforeAll(async () => {
  await buildBase(env);
  await build(env, "tools");
  samba = await build(env, "samba");
});

const proofs = (out: string, platform: string) => clientProofs(out, `samba:image ${platform}`);

const FILE_SERVICE = [
  "setup",
  "the shares are listed",
  "put a file",
  "the listing shows it",
  "get it back, byte-identical",
  "a wrong password is refused",
  "an unknown user is refused",
  "a read-only share refuses writes",
  "a share of alice's refuses bob",
  "the file is on /data, owned by uid 2000",
  "after a restart on the same /data the file is there",
].map((s) => `client-test file service / ${s}`);
const TIME_MACHINE = [
  "setup",
  "the share is a Time Machine destination",
  "a backup file goes in",
  "Apple metadata streams are kept",
  "bob may not back up there",
].map((s) => `client-test time machine / ${s}`);

describe("samba", () => {
  it.each(["linux/amd64", "linux/arm64"])("%s: smbd and its linked closure on base:runtime, its manifest, no RUN, the declared runtime", async (platform) => {
    const arch = platform.split("/")[1]!;
    const triplet = arch === "amd64" ? "x86_64-linux-gnu" : "aarch64-linux-gnu";
    const img = await readImage(env, samba.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of [
      "usr/sbin/smbd",
      "usr/bin/pdbedit",
      "usr/bin/testparm",
      "usr/libexec/samba/samba-dcerpcd",
      `usr/lib/${triplet}/samba/vfs/fruit.so`,
      `usr/lib/${triplet}/libnss_wrapper.so`,
      "boot/entrypoint.sh",
      "boot/healthcheck",
      "boot/mkdirs",
      "usr/share/doc/samba/copyright",
      "usr/share/kiln/packages/base-runtime.tsv",
    ]) {
      expect(img.files.has(need), need).toBe(true);
    }
    // No Python, no AD DC, no NetBIOS, no maintainer-script tools, no plugin nothing loads.
    for (const never of ["usr/bin/python3", "usr/bin/samba-tool", "usr/sbin/samba", "usr/sbin/nmbd", "usr/bin/net", "usr/sbin/useradd", "etc/samba/smb.conf", `usr/lib/${triplet}/samba/vfs/ceph.so`]) {
      expect(img.files.has(never), never).toBe(false);
    }
    expect(names.filter((n) => n.startsWith("usr/lib/python3"))).toEqual([]);
    const manifest = (await img.read("usr/share/kiln/packages/samba.tsv"))!.toString("utf8");
    const packages = manifest.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[0]);
    for (const p of ["samba", "samba-libs", "samba-vfs-modules", "libnss-wrapper"]) expect(packages).toContain(p);
    for (const p of ["python3", "python3-samba", "passwd", "dpkg", "libssl3", "samba-common"]) expect(packages).not.toContain(p);
    expect(manifest).toMatch(new RegExp(`\\nsamba\\t2:4\\.17\\.[^\\t]+\\t${arch}\\t[0-9a-f]{64}\\n`));
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    const config = img.config.config as typeof img.config.config & { Volumes?: Record<string, unknown> };
    expect(config.User).toBe("2000:2000");
    expect(config.Healthcheck?.Test).toEqual(["CMD", "/boot/healthcheck"]);
    expect(Object.keys(config.Volumes ?? {})).toEqual(["/data"]);
    console.log(`${platform}: samba ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(40e6);
  });

  it(`passes kiln test on ${proofPlatforms().join(" and ")}, client proofs included`, async () => {
    const r = await kiln(["test", "samba", ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of proofPlatforms()) expect(proofs(r.stdout, platform), platform).toEqual([...FILE_SERVICE, ...TIME_MACHINE].map((p) => `✓ ${p}`));
  });

  it("a samba whose shares refuse writes fails exactly the put, naming the rule", async () => {
    const r = await kiln(["test", "samba", "--platform", "linux/amd64"], { ...env, KILN_CATALOG: READ_ONLY });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const failed = r.stdout.split("\n").filter((l) => /^ {2}✗ /.test(l));
    expect(failed.map((l) => l.slice(0, l.indexOf(":")).trim())).toEqual(["✗ client-test file service / put a file"]);
    // smbd's own refusal is shown, and the proofs it stops are named.
    expect(r.stdout).toMatch(/NT_STATUS_(ACCESS_DENIED|MEDIA_WRITE_PROTECTED)/);
    expect(r.stdout).toContain("not run: the listing shows it, get it back, byte-identical");
    expect(proofs(r.stdout, "linux/amd64")).toEqual(["✓ client-test file service / setup", "✓ client-test file service / the shares are listed", "✗ client-test file service / put a file"]);
    expect(r.stdout).toMatch(/FAILED 1 of \d+ checks: samba:image linux\/amd64 client-test \(file service \/ put a file\)/);
  });
});
