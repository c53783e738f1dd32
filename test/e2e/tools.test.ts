/**
 * images/tools on the real engine: the client image every proof uses. Built
 * once here (`kiln verify tools` checks it bit for bit); every client runs
 * hardened on amd64 and on arm64 (qemu) through `kiln test`; the image holds
 * the locked closure on top of base:runtime (and says so in its manifest),
 * no compiler, no package manager.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { build, buildBase, familyEnv, readImage, type Built, proofPlatforms, proofPlatformFlags } from "./base-family.ts";
import { kiln } from "./helpers.ts";

const env = familyEnv();
let tools: Built;

beforeAll(async () => {
  await buildBase(env);
  tools = await build(env, "tools");
});

describe("tools", () => {
  it("builds for both platforms", () => {
    expect(Object.keys(tools.manifests).sort()).toEqual(["linux/amd64", "linux/arm64"]);
  });

  it.each(["linux/amd64", "linux/arm64"])("%s: the clients, their manifest, no package manager, no RUN", async (platform) => {
    const img = await readImage(env, tools.digest, platform);
    for (const need of ["usr/bin/curl", "usr/bin/kdig", "usr/bin/openssl", "usr/bin/jq", "usr/bin/smbclient", "usr/bin/ipptool", "usr/bin/psql", "usr/bin/mariadb", "usr/bin/skopeo", "etc/samba/smb.conf"]) {
      expect(img.files.has(need), need).toBe(true);
    }
    for (const never of ["usr/bin/dpkg", "usr/bin/apt-get", "usr/bin/gcc", "usr/bin/perl", "var/lib/dpkg"]) expect(img.files.has(never), never).toBe(false);
    const manifest = (await img.read("usr/share/kiln/packages/tools.tsv"))!.toString("utf8");
    const arch = platform.split("/")[1]!;
    const lines = manifest.split("\n").filter((l) => l && !l.startsWith("#"));
    for (const pkg of ["curl", "knot-dnsutils", "skopeo", "smbclient"]) expect(lines.some((l) => l.startsWith(`${pkg}\t`) && l.split("\t")[2] === arch), pkg).toBe(true);
    // What base:runtime holds is not installed again.
    for (const base of ["libc6", "bash", "tzdata"]) expect(lines.some((l) => l.startsWith(`${base}\t`)), base).toBe(false);
    expect(img.config.history?.filter((h) => /^RUN /.test(h.created_by ?? ""))).toEqual([]);
  });

  it(`passes kiln test on ${proofPlatforms().join(" and ")}: every client runs as uid 2000, read-only, without capabilities`, async () => {
    const r = await kiln(["test", "tools", ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.stdout).toMatch(/command-test skopeo/);
    expect(r.code).toBe(0);
  });
});
