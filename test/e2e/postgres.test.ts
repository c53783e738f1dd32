/**
 * images/postgres on the real engine, built once (`kiln verify postgres` checks it
 * bit for bit): Debian's PostgreSQL 15 server and client programs with the
 * libraries they link (no perl, no cluster manager, no LLVM JIT), run as uid 2000
 * with no capabilities on port 5432. `kiln test` proves it on amd64 (arm64 too, under
 * qemu, with KILN_E2E_ALL_PLATFORMS=1) with psql from the tools image: initdb on the first start with the
 * password from a secret file, a table created, rows inserted and selected, a
 * wrong password and an unknown role refused, the cluster on /data owned by uid
 * 2000, the rows still there after a restart on the same /data, and the new
 * server's log showing that docker stop's SIGTERM left a cluster that needed no
 * recovery; then TLS required: a verified TLS 1.3 session, plain TCP refused.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, proofPlatformFlags, proofPlatforms, readImage, type Built } from "./base-family.ts";
import { kiln } from "./helpers.ts";

const env = familyEnv();
let postgres: Built;

beforeAll(async () => {
  await buildBase(env);
  await build(env, "tools");
  postgres = await build(env, "postgres");
});

const SQL = [
  "setup",
  "create and insert",
  "select",
  "a wrong password is refused",
  "an unknown role is refused",
  "the cluster is on /data, owned by uid 2000",
  "after a restart on the same /data the rows are there",
  "SIGTERM stopped it cleanly, no recovery on the next start",
].map((s) => `client-test sql / ${s}`);
const TLS = ["setup", "a verified TLS session", "a plain TCP login is refused", "a client without the CA refuses the certificate"].map((s) => `client-test tls required / ${s}`);

describe("postgres", () => {
  it.each(["linux/amd64", "linux/arm64"])("%s: the server and its linked closure on base:runtime, its manifest, no RUN, the declared runtime", async (platform) => {
    const arch = platform.split("/")[1]!;
    const img = await readImage(env, postgres.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of [
      "usr/lib/postgresql/15/bin/postgres",
      "usr/lib/postgresql/15/bin/initdb",
      "usr/lib/postgresql/15/bin/pg_isready",
      "usr/lib/postgresql/15/bin/psql",
      "usr/lib/postgresql/15/lib/pgcrypto.so",
      "usr/share/postgresql/15/postgres.bki",
      "usr/lib/bash/mkdir",
      "boot/entrypoint.sh",
      "usr/share/doc/postgresql-15/copyright",
    ]) {
      expect(img.files.has(need), need).toBe(true);
    }
    // No perl, no cluster manager, no JIT, no SELinux module, no packaged /etc.
    for (const never of ["usr/bin/perl", "usr/bin/pg_ctlcluster", "usr/lib/postgresql/15/lib/llvmjit.so", "usr/lib/postgresql/15/lib/sepgsql.so", "usr/lib/postgresql/15/bin/pg_config", "etc/postgresql-common", "usr/lib/bash/rm"]) {
      expect(img.files.has(never), never).toBe(false);
    }
    expect(names.filter((n) => /libLLVM/.test(n))).toEqual([]);
    const manifest = (await img.read("usr/share/kiln/packages/postgres.tsv"))!.toString("utf8");
    const packages = manifest.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[0]);
    for (const p of ["postgresql-15", "postgresql-client-15", "libpq5", "libicu72"]) expect(packages).toContain(p);
    for (const p of ["perl", "perl-base", "postgresql-common", "libllvm14", "locales", "libselinux1", "dpkg"]) expect(packages).not.toContain(p);
    expect(manifest).toMatch(new RegExp(`\\npostgresql-15\\t15\\.[^\\t]+\\t${arch}\\t[0-9a-f]{64}\\n`));
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    const config = img.config.config as typeof img.config.config & { Volumes?: Record<string, unknown> };
    expect(config.User).toBe("2000:2000");
    expect(config.Healthcheck?.Test[0]).toBe("CMD");
    expect(config.Healthcheck?.Test.join(" ")).toContain("pg_isready");
    expect(Object.keys(config.Volumes ?? {})).toEqual(["/data"]);
    console.log(`${platform}: postgres ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(40e6);
  });

  it(`passes kiln test on ${proofPlatforms().join(" and ")}, client proofs included`, async () => {
    const r = await kiln(["test", "postgres", ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of proofPlatforms()) expect(clientProofs(r.stdout, `postgres:image ${platform}`), platform).toEqual([...SQL, ...TLS].map((p) => `✓ ${p}`));
  });
});
