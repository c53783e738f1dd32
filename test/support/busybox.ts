/**
 * A static busybox (Debian's busybox-static) as the base of small test
 * images: no image can be pulled, so fixture images are FROM scratch plus
 * this one binary. Kept under ~/.cache/kiln-test between runs.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export async function staticBusybox(): Promise<string> {
  const dir = path.join(os.homedir(), ".cache", "kiln-test", "busybox-amd64");
  const bin = path.join(dir, "busybox");
  if (await fs.stat(bin).then(() => true, () => false)) return bin;
  await fs.mkdir(dir, { recursive: true });
  const work = await fs.mkdtemp(path.join(dir, "work-"));
  try {
    const dl = spawnSync("apt-get", ["download", "busybox-static"], { cwd: work, encoding: "utf8" });
    const deb = (await fs.readdir(work)).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download busybox-static failed: ${dl.stderr}`);
    const x = spawnSync("dpkg-deb", ["-x", path.join(work, deb), path.join(work, "root")], { encoding: "utf8" });
    if (x.status !== 0) throw new Error(`dpkg-deb -x failed: ${x.stderr}`);
    await fs.rename(path.join(work, "root", "bin", "busybox"), bin);
    return bin;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
