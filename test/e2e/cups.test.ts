/**
 * images/cups on the real engine, built once (`kiln verify cups` checks it bit for
 * bit): Debian's cupsd and PDF filter chain, as uid 2000 with no capabilities.
 * `kiln test cups` proves it on amd64 and on arm64 (qemu) with ipptool from the
 * tools image: the web interface answers, a PDF job completes (job-state completed),
 * the file in /data is a PDF that pdftopdf wrote, the job is still in the history
 * after a restart on the same /data, and a stopped queue holds a job without
 * writing anything. A queue that rejects jobs (test/fixtures/cups-rejecting) fails
 * exactly the step whose job must complete, naming the rule.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { OciStore } from "../../src/oci/store.ts";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, readImage, type Built, proofPlatforms, proofPlatformFlags } from "./base-family.ts";
import { kiln, REPO } from "./helpers.ts";

const env = familyEnv();
const REJECTING = path.join(REPO, "test/fixtures/cups-rejecting");
let cups: Built;

beforeAll(async () => {
  await buildBase(env);
  // The proofs' client; the tools test builds it too, the family store keeps it.
  const store = await OciStore.open(env.KILN_STORE!);
  if (!(await store.resolve("tools:image"))) await build(env, "tools");
  cups = await build(env, "cups");
});

const proofs = (out: string, platform: string) => clientProofs(out, `cups:image ${platform}`);

const PRINT = [
  "setup",
  "the web interface answers",
  "ipptool prints a PDF and the job completes",
  "the output in /data is a PDF written by pdftopdf",
  "after a restart on the same /data the job is in the history",
].map((s) => `client-test print to PDF / ${s}`);
const STOPPED = ["setup", "the queue reports stopped", "a job is accepted and held", "nothing was written to /data"].map((s) => `client-test stopped queue / ${s}`);

describe("cups", () => {
  it.each(["linux/amd64", "linux/arm64"])("%s: cupsd and the PDF chain on base:runtime, its manifest, no RUN, the declared runtime", async (platform) => {
    const img = await readImage(env, cups.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of [
      "usr/sbin/cupsd",
      "usr/lib/cups/daemon/cups-exec",
      "usr/lib/cups/filter/pdftopdf",
      "usr/lib/cups/filter/imagetopdf",
      "usr/share/cups/mime/mime.convs",
      "usr/share/cups/doc-root/index.html",
      "usr/share/cups/model/kiln-pdf.ppd",
      "usr/lib/bash/mkdir",
      "boot/healthcheck",
      "boot/entrypoint.sh",
      "usr/share/doc/cups-daemon/copyright",
    ]) {
      expect(img.files.has(need), need).toBe(true);
    }
    // Left out of the locked closure: packaging tools, init-script helpers, the raster side.
    for (const never of ["usr/sbin/adduser", "usr/bin/perl", "usr/bin/bc", "usr/bin/ps", "usr/bin/openssl", "usr/bin/ipptool", "usr/bin/pdftops", "usr/lib/cups/filter/pdftoraster", "usr/lib/bash/cat", "etc/cups/cupsd.conf"]) {
      expect(img.files.has(never), never).toBe(false);
    }
    // A conversion rule whose filter is not shipped is commented out.
    const convs = (await img.read("usr/share/cups/mime/cupsfilters.convs"))!.toString("utf8");
    expect(convs).toMatch(/^application\/pdf\s+application\/vnd\.cups-pdf\s+66\s+pdftopdf$/m);
    expect(convs).toMatch(/^# not shipped: .*\btexttopdf$/m);
    const manifest = (await img.read("usr/share/kiln/packages/cups.tsv"))!.toString("utf8");
    const packages = manifest.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[0]);
    for (const p of ["cups-daemon", "cups-server-common", "cups-core-drivers", "cups-filters-core-drivers", "libcups2", "libqpdf29", "bash-builtins"]) expect(packages).toContain(p);
    for (const p of ["adduser", "perl-base", "procps", "ssl-cert", "poppler-utils", "libpoppler126", "cups-ipp-utils"]) expect(packages).not.toContain(p);
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    const config = img.config.config as typeof img.config.config & { Volumes?: Record<string, unknown> };
    expect(config.User).toBe("2000:2000");
    expect(Object.keys(config.Volumes ?? {})).toEqual(["/data"]);
    console.log(`${platform}: cups ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(20e6);
  });

  it(`passes kiln test on ${proofPlatforms().join(" and ")}, client proofs included`, async () => {
    const r = await kiln(["test", "cups", ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of proofPlatforms()) expect(proofs(r.stdout, platform), platform).toEqual([...PRINT, ...STOPPED].map((p) => `✓ ${p}`));
  });

  it("a queue that rejects jobs fails exactly the job that must complete, naming the rule", async () => {
    const r = await kiln(["test", "cups", "--platform", "linux/amd64"], { ...env, KILN_CATALOG: REJECTING });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const failed = r.stdout.split("\n").filter((l) => /^ {2}✗ /.test(l));
    expect(failed.map((l) => l.slice(0, l.indexOf(":")).trim())).toEqual(["✗ client-test print to PDF / ipptool prints a PDF and the job completes"]);
    // cupsd's own refusal is shown, and the proofs it stops are named.
    expect(r.stdout).toContain("server-error-not-accepting-jobs");
    expect(r.stdout).toContain("not run: the output in /data is a PDF written by pdftopdf, after a restart on the same /data the job is in the history");
    expect(proofs(r.stdout, "linux/amd64")).toEqual([
      ...PRINT.slice(0, 2).map((p) => `✓ ${p}`),
      `✗ ${PRINT[2]}`,
      ...STOPPED.map((p) => `✓ ${p}`),
    ]);
    expect(r.stdout).toMatch(/FAILED 1 of \d+ checks: cups:image linux\/amd64 client-test \(print to PDF \/ ipptool prints a PDF and the job completes\)/);
  });
});
