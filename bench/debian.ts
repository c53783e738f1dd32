/**
 * Debian rootfs bench: for each architecture, from images/debian/kiln.lock.json,
 *  - kiln's rootfs (mmdebstrap's default mode: maintainer scripts in a chroot, qemu for arm64), built twice: time, sha256, equality;
 *  - the same in chrootless mode (+ ldconfig under qemu): time, equal to the default mode or not;
 *  - a plain `mmdebstrap --variant=minbase` from the live mirror (no merged-usr hook, no slim) made in the same run;
 * with uncompressed (tar) and compressed (gzip -9) sizes. Writes bench/debian-results.json.
 * Run: npx tsx bench/debian.ts [amd64,arm64]   (KILN_CACHE_DIR reuses a warm .deb cache)
 */
import { execFile } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createGzip } from "node:zlib";
import { fetchLockedDebs } from "../src/debian/debs.ts";
import { makeFlatRepo } from "../src/debian/flatrepo.ts";
import { buildRootfs } from "../src/debian/rootfs.ts";
import { lockSchema, snapshotToEpoch } from "../src/lock/schema.ts";
import { cacheDir } from "../src/paths.ts";
import { settingsSchema } from "../src/settings/schema.ts";
import { hashFile } from "../src/util/cas.ts";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const lock = lockSchema.parse(JSON.parse(await fs.readFile(path.join(root, "images/debian/kiln.lock.json"), "utf8"))).debian!;
const archs = (process.argv[2] ?? "amd64,arm64").split(",");
const settings = settingsSchema.parse({ cacheDir: process.env.KILN_CACHE_DIR });
const work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bench-debian-"));

async function gzipSize(file: string): Promise<number> {
  const out = `${file}.gz`;
  await pipeline(createReadStream(file), createGzip({ level: 9 }), createWriteStream(out));
  const { size } = await fs.stat(out);
  await fs.rm(out);
  return size;
}

async function measure(file: string, seconds: number) {
  return { seconds: Math.round(seconds * 10) / 10, sha256: await hashFile(file), bytes: (await fs.stat(file)).size, gzip9Bytes: await gzipSize(file) };
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

const results: Record<string, unknown> = {};
try {
  for (const arch of archs) {
    const debs = await fetchLockedDebs(lock, arch, settings, cacheDir(settings));
    const repo = await makeFlatRepo(debs, arch, path.join(work, `repo-${arch}`), { suite: lock.suite });
    const out = (name: string) => path.join(work, `${name}-${arch}.tar`);
    const kiln1 = await measure(out("kiln1"), await timed(() => buildRootfs({ lock, arch, repoDir: repo, output: out("kiln1"), mode: "root", tmpDir: work })));
    const kiln2 = await measure(out("kiln2"), await timed(() => buildRootfs({ lock, arch, repoDir: repo, output: out("kiln2"), mode: "root", tmpDir: work })));
    const chrootless = await measure(out("chrootless"), await timed(() => buildRootfs({ lock, arch, repoDir: repo, output: out("chrootless"), mode: "chrootless", tmpDir: work })));
    const plainSeconds = await timed(() =>
      run("mmdebstrap", ["--variant=minbase", `--architectures=${arch}`, lock.suite, out("plain")], { env: { ...process.env, SOURCE_DATE_EPOCH: String(snapshotToEpoch(lock.snapshot)), TMPDIR: work }, maxBuffer: 256 * 1024 * 1024 }),
    );
    const plain = await measure(out("plain"), plainSeconds);
    results[arch] = {
      kiln: kiln1,
      kilnRebuildIdentical: kiln1.sha256 === kiln2.sha256,
      chrootless: { ...chrootless, identicalToDefaultMode: chrootless.sha256 === kiln1.sha256 },
      plainMinbase: plain,
      compressedRatio: Math.round((kiln1.gzip9Bytes / plain.gzip9Bytes) * 1000) / 1000,
      uncompressedRatio: Math.round((kiln1.bytes / plain.bytes) * 1000) / 1000,
    };
    console.log(JSON.stringify({ [arch]: results[arch] }, null, 2));
    if (chrootless.sha256 !== kiln1.sha256) {
      const { stdout } = await run("bash", ["-c", `diff <(tar -tvf '${out("kiln1")}' | sort) <(tar -tvf '${out("chrootless")}' | sort) | head -40`], { maxBuffer: 1 << 24 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "" }));
      console.log(`default vs chrootless mode (${arch}), listing differences:\n${stdout}`);
    }
    for (const f of ["kiln1", "kiln2", "chrootless", "plain"]) await fs.rm(out(f), { force: true });
  }
  const file = path.join(root, "bench", "debian-results.json");
  const previous = JSON.parse(await fs.readFile(file, "utf8").catch(() => "{}"));
  await fs.writeFile(file, JSON.stringify({ ...previous, snapshot: lock.snapshot, mmdebstrap: (await run("mmdebstrap", ["--version"])).stdout.trim(), cores: os.cpus().length, measuredAt: new Date().toISOString(), ...results }, null, 2) + "\n");
} finally {
  await fs.rm(work, { recursive: true, force: true });
}
