/**
 * images/mariadb on the real engine, built once (`kiln verify mariadb` checks it
 * bit for bit): Debian's MariaDB 10.11 server (mariadb-server-core) with the
 * libraries it links (no perl, no mariadb-install-db script, no plugins), run as
 * uid 2000 with no capabilities on port 3306. `kiln test` proves it on amd64
 * (arm64 too, under qemu, with KILN_E2E_ALL_PLATFORMS=1) with the mariadb client from the tools image: the system tables
 * made on the first start with root's password from a secret file; root refused
 * from another container by default and let in with MARIADB_ROOT_HOST; a table
 * created, rows inserted and selected, a wrong password and an unknown user
 * refused, the files on /data owned by uid 2000, the rows still there after a
 * restart on the same /data, and the new server's log showing that docker stop's
 * SIGTERM left InnoDB needing no crash recovery; then TLS required: a verified
 * TLS 1.3 session, plain TCP refused.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, proofPlatformFlags, proofPlatforms, readImage, type Built } from "./base-family.ts";
import { kiln } from "./helpers.ts";

const env = familyEnv();
let mariadb: Built;

beforeAll(async () => {
  await buildBase(env);
  await build(env, "tools");
  mariadb = await build(env, "mariadb");
});

const ROOT = ["setup", "the log says where root may log in from", "root with the right password from another container is refused"].map((s) => `client-test root from this container only / ${s}`);
const SQL = [
  "setup",
  "the log says root may log in from MARIADB_ROOT_HOST",
  "create and insert",
  "select",
  "a wrong password is refused",
  "an unknown user is refused",
  "the databases are on /data, owned by uid 2000",
  "after a restart on the same /data the rows are there",
  "SIGTERM stopped it cleanly, no recovery on the next start",
].map((s) => `client-test sql / ${s}`);
const TLS = ["setup", "a verified TLS session", "a plain TCP login is refused", "a client without the CA refuses the certificate"].map((s) => `client-test tls required / ${s}`);

describe("mariadb", () => {
  it.each(["linux/amd64", "linux/arm64"])("%s: the server and its linked closure on base:runtime, its manifest, no RUN, the declared runtime", async (platform) => {
    const arch = platform.split("/")[1]!;
    const img = await readImage(env, mariadb.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of ["usr/sbin/mariadbd", "usr/share/mysql/mysql_system_tables.sql", "usr/share/mysql/english/errmsg.sys", "usr/lib/bash/mkdir", "boot/entrypoint.sh", "boot/healthcheck", "usr/share/doc/mariadb-server-core/copyright"]) {
      expect(img.files.has(need), need).toBe(true);
    }
    // No install script (it needs coreutils), no upgrade tool without a client, no packaged /etc.
    for (const never of ["usr/bin/mariadb-install-db", "usr/bin/mariadb-upgrade", "usr/bin/perl", "etc/mysql/my.cnf", "usr/lib/bash/rm"]) {
      expect(img.files.has(never), never).toBe(false);
    }
    const manifest = (await img.read("usr/share/kiln/packages/mariadb.tsv"))!.toString("utf8");
    const packages = manifest.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[0]);
    for (const p of ["mariadb-server-core", "libssl3", "liburing2"]) expect(packages).toContain(p);
    for (const p of ["mysql-common", "mariadb-common", "perl", "dpkg"]) expect(packages).not.toContain(p);
    expect(manifest).toMatch(new RegExp(`\\nmariadb-server-core\\t1:10\\.11\\.[^\\t]+\\t${arch}\\t[0-9a-f]{64}\\n`));
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    const config = img.config.config as typeof img.config.config & { Volumes?: Record<string, unknown> };
    expect(config.User).toBe("2000:2000");
    expect(config.Healthcheck?.Test).toEqual(["CMD", "/boot/healthcheck"]);
    expect(Object.keys(config.Volumes ?? {})).toEqual(["/data"]);
    console.log(`${platform}: mariadb ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(40e6);
  });

  it(`passes kiln test on ${proofPlatforms().join(" and ")}, client proofs included`, async () => {
    const r = await kiln(["test", "mariadb", ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of proofPlatforms()) expect(clientProofs(r.stdout, `mariadb:image ${platform}`), platform).toEqual([...ROOT, ...SQL, ...TLS].map((p) => `✓ ${p}`));
  });
});
