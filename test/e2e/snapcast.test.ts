/**
 * images/snapcast on the real engine, built once (`kiln verify snapcast` checks it
 * bit for bit): Debian's snapserver 0.26 with the libraries it links (no adduser,
 * no Python plug-in), run as uid 2000 with no capabilities. `kiln test` proves it
 * on amd64 (arm64 too, under qemu, with KILN_E2E_ALL_PLATFORMS=1) with snapclient from the tools image as a fixture: the
 * client connects and Server.GetStatus lists it, over HTTP and over the TCP control
 * port; the stream is the pipe; Client.SetName names it, and the name outlives a
 * restart on the same /data; then with the TCP source, a player on the network sends PCM
 * and Server.GetStatus shows the stream playing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, proofPlatformFlags, proofPlatforms, readImage, type Built } from "./base-family.ts";
import { kiln } from "./helpers.ts";

const env = familyEnv();
let snapcast: Built;

beforeAll(async () => {
  await buildBase(env);
  await build(env, "tools");
  snapcast = await build(env, "snapcast");
});

const SPEAKER = [
  "setup",
  "Server.GetStatus over HTTP lists the connected snapclient",
  "the stream is listed, playing from the pipe",
  "Server.GetStatus over the TCP control port lists it too",
  "Client.SetName names it",
  "after a restart on the same /data the name is kept",
].map((s) => `client-test a speaker joins / ${s}`);
const TCP = ["setup", "while PCM arrives over TCP, Server.GetStatus shows the stream playing", "the speaker is listed on it"].map((s) => `client-test a player sends to the tcp source / ${s}`);

describe("snapcast", () => {
  it.each(["linux/amd64", "linux/arm64"])("%s: snapserver and its linked closure on base:runtime, its manifest, no RUN, the declared runtime", async (platform) => {
    const arch = platform.split("/")[1]!;
    const img = await readImage(env, snapcast.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of ["usr/bin/snapserver", "usr/share/snapserver/index.html", "usr/lib/bash/mkdir", "boot/entrypoint.sh", "boot/healthcheck", "usr/share/doc/snapserver/copyright"]) {
      expect(img.files.has(need), need).toBe(true);
    }
    // /bin/sh for snapserver's popen() (bash), the pipe's volume owned by the app user.
    expect(img.files.get("usr/bin/sh")?.linkname).toBe("bash");
    expect(img.files.get("audio")).toMatchObject({ type: "directory", uid: 2000, gid: 2000, mode: 0o700 });
    for (const never of ["usr/share/snapserver/plug-ins/meta_mpd.py", "etc/snapserver.conf", "usr/sbin/adduser", "usr/lib/bash/rm"]) expect(img.files.has(never), never).toBe(false);
    const manifest = (await img.read("usr/share/kiln/packages/snapcast.tsv"))!.toString("utf8");
    const packages = manifest.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[0]);
    for (const p of ["snapserver", "libflac12", "libopus0", "libsoxr0"]) expect(packages).toContain(p);
    for (const p of ["adduser", "passwd", "init-system-helpers", "dpkg"]) expect(packages).not.toContain(p);
    expect(manifest).toMatch(new RegExp(`\\nsnapserver\\t0\\.26\\.[^\\t]+\\t${arch}\\t[0-9a-f]{64}\\n`));
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    const config = img.config.config as typeof img.config.config & { Volumes?: Record<string, unknown> };
    expect(config.User).toBe("2000:2000");
    expect(config.Healthcheck?.Test).toEqual(["CMD", "/boot/healthcheck", "1780", "/"]);
    expect(Object.keys(config.Volumes ?? {}).sort()).toEqual(["/audio", "/data"]);
    console.log(`${platform}: snapcast ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(15e6);
  });

  it(`passes kiln test on ${proofPlatforms().join(" and ")}, client proofs included`, async () => {
    const r = await kiln(["test", "snapcast", ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of proofPlatforms()) expect(clientProofs(r.stdout, `snapcast:image ${platform}`), platform).toEqual([...SPEAKER, ...TCP].map((p) => `✓ ${p}`));
  });
});
