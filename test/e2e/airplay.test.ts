/**
 * images/airplay on the real engine: shairport-sync 5.2.1 (AirPlay 2) and nqptp 1.2.4
 * compiled from their upstream sources (reached through the mirrors with settings
 * git.insteadOf, the definition naming GitHub), cross-compiled on the build platform, with
 * avahi-daemon and dbus-daemon from Debian, no RUN in the final stage. `kiln test` runs it as
 * uid 2000 with no capability (only the namespaced sysctl that lets nqptp bind 319/320) and
 * proves with the tools image: avahi-browse resolves its _raop._tcp and _airplay._tcp records,
 * an RTSP OPTIONS with an Apple-Challenge gets an Apple-Response, PulseAudio's RAOP sink plays a
 * 1 kHz tone that the speaker writes (non-silent, 1 kHz), and with a password a sender without
 * it is refused.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, readImage, type Built } from "./base-family.ts";
import { kiln } from "./helpers.ts";
import { mirrorConfig } from "../support/upstream-mirror.ts";

const family = familyEnv();
const env = {
  ...family,
  KILN_CONFIG: mirrorConfig(path.dirname(family.KILN_STORE!), {
    "shairport-sync.git": "https://github.com/mikebrady/shairport-sync",
    "nqptp.git": "https://github.com/mikebrady/nqptp",
  }),
};
let airplay: Built;

beforeAll(async () => {
  await buildBase(env);
  await build(env, "tools");
  // amd64 here; the arm64 cross build belongs to the nightly run.
  airplay = await build(env, "airplay", ["--platform", "linux/amd64"]);
}, 3600_000);

const PLAYS = [
  "setup",
  "avahi-browse finds the _raop._tcp and _airplay._tcp records by name",
  "RTSP OPTIONS with an Apple-Challenge gets 200 and an Apple-Response",
  "nqptp holds UDP 319 and 320 as uid 2000 with no capability",
  "PulseAudio's RAOP sink plays a 1 kHz tone and the speaker writes it",
].map((s) => `client-test a classic AirPlay sender plays / ${s}`);
const PASSWORD = [
  "setup",
  "a classic AirPlay OPTIONS without the password gets 401 and a Digest challenge",
  "a sender without the password is refused, nothing is written",
].map((s) => `client-test a password is asked for / ${s}`);

describe("airplay", () => {
  it.each(["linux/amd64"])("%s: shairport-sync, nqptp and the daemons on base:runtime, no RUN, the declared runtime", async (platform) => {
    const arch = platform.split("/")[1]!;
    const img = await readImage(env, airplay.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of ["usr/bin/shairport-sync", "usr/bin/nqptp", "usr/sbin/avahi-daemon", "usr/bin/dbus-daemon", "usr/lib/bash/mkdir", "boot/entrypoint.sh", "boot/healthcheck.sh"]) {
      expect(img.files.has(need), need).toBe(true);
    }
    // avahi-daemon's runtime folder points into /tmp; its user name is uid 2000's.
    expect(img.files.get("run/avahi-daemon")?.linkname).toBe("/tmp/avahi-daemon");
    expect((await img.read("etc/passwd"))!.toString("utf8")).toMatch(/^avahi:x:2000:2000:/m);
    expect(img.files.get("audio")).toMatchObject({ type: "directory", uid: 2000, gid: 2000, mode: 0o700 });
    const manifest = (await img.read("usr/share/kiln/packages/airplay.tsv"))!.toString("utf8");
    const packages = manifest.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[0]);
    for (const p of ["avahi-daemon", "dbus-daemon", "libavcodec59", "libplist3", "libsodium23"]) expect(packages).toContain(p);
    // Build-dependencies and what a Depends adds beyond linked libraries stay out.
    for (const p of ["autoconf", "xxd", "libavcodec-dev", "adduser", "perl", "dbus"]) expect(packages).not.toContain(p);
    expect(manifest).toMatch(new RegExp(`\\navahi-daemon\\t0\\.8-[^\\t]+\\t${arch}\\t[0-9a-f]{64}\\n`));
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    const config = img.config.config as typeof img.config.config & { Volumes?: Record<string, unknown> };
    expect(config.User).toBe("2000:2000");
    expect(config.Healthcheck?.Test).toEqual(["CMD", "bash", "/boot/healthcheck.sh"]);
    expect(Object.keys(config.Volumes ?? {}).sort()).toEqual(["/audio", "/data"]);
    console.log(`${platform}: airplay ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(90e6);
  });

  it("passes kiln test on linux/amd64: mDNS, RTSP, a tone heard, a password asked for", async () => {
    const r = await kiln(["test", "airplay", "--platform", "linux/amd64"], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("granted only --sysctl=net.ipv4.ip_unprivileged_port_start=319");
    expect(clientProofs(r.stdout, "airplay:image linux/amd64")).toEqual([...PLAYS, ...PASSWORD].map((p) => `✓ ${p}`));
  }, 1800_000);
});
