/**
 * images/buildkit on the real engine: buildkitd and buildctl compiled from the
 * upstream source (reached through the mirror with settings git.insteadOf, the
 * definition naming GitHub), runc from Debian, no RUN in the final stage.
 * `kiln test` runs it with exactly its declared privileges and proves, with
 * buildctl from the image itself, that a client with a certificate from the CA
 * runs a real build in a runc container and that a client certificate from
 * another CA, or none, is refused; and that the debug listener (metrics, pprof)
 * answers only on loopback unless BUILDKIT_DEBUG_LISTEN asks for more.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, readImage, type Built } from "../e2e/base-family.ts";
import { kiln } from "../e2e/helpers.ts";
import { mirrorConfig } from "../support/upstream-mirror.ts";

const family = familyEnv();
const env = { ...family, KILN_CONFIG: mirrorConfig(path.dirname(family.KILN_STORE!), { "buildkit.git": "https://github.com/moby/buildkit" }) };
let buildkit: Built;

beforeAll(async () => {
  await buildBase(env);
  buildkit = await build(env, "buildkit");
}, 3600_000);

describe("buildkit", () => {
  it.each(["linux/amd64", "linux/arm64"])("%s: buildkitd, buildctl and runc on base:runtime, no RUN, the declared runtime", async (platform) => {
    const img = await readImage(env, buildkit.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of ["usr/bin/buildkitd", "usr/bin/buildctl", "usr/sbin/runc", "boot/entrypoint.sh", "usr/share/kiln/packages/buildkit.tsv"]) expect(img.files.has(need), need).toBe(true);
    const manifest = (await img.read("usr/share/kiln/packages/buildkit.tsv"))!.toString("utf8");
    expect(manifest).toMatch(new RegExp(`^runc\\t1\\.1\\.[^\\t]+\\t${platform.split("/")[1]}\\t[0-9a-f]{64}$`, "m"));
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    expect(img.config.config.User).toBe("0:0");
    expect(img.config.config.Healthcheck?.Test).toEqual(["CMD", "buildctl", "--addr", "unix:///tmp/buildkitd.sock", "debug", "workers"]);
    console.log(`${platform}: buildkit ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(40e6);
  });

  it("passes kiln test on amd64 with only --privileged granted; debug listener on loopback unless asked; a wrong or missing client certificate is refused", async () => {
    const r = await kiln(["test", "buildkit", "--platform", "linux/amd64"], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("granted only --privileged");
    expect(clientProofs(r.stdout, "buildkit:image linux/amd64")).toEqual([
      ...["setup", "the container's address does not answer on 6060", "loopback inside the container serves metrics"].map((s) => `✓ client-test debug listener by default / ${s}`),
      ...["setup", "the container's address serves metrics"].map((s) => `✓ client-test debug listener when asked / ${s}`),
      ...[
        "setup",
        "a client with a certificate from the CA lists the workers",
        "a build runs in a runc container",
        "a client certificate from another CA is refused",
        "a client without a certificate is refused",
      ].map((s) => `✓ client-test mutual TLS / ${s}`),
    ]);
  }, 900_000);
});
