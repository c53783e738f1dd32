/**
 * The package unpacker shipped in base:builder (images/base/context/deb-install),
 * run with bash on the host against a flat repository of real .debs made here
 * with dpkg-deb, exactly as a Dockerfile step runs it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/paths.ts";
import { tempDir } from "../support/temp-dir.ts";

const SCRIPT = path.join(REPO_ROOT, "images/base/context/deb-install");

function run(args: string[]) {
  // The target is amd64 unless a test says otherwise, as a Dockerfile's TARGETARCH says.
  const r = spawnSync("/bin/bash", ["--norc", SCRIPT, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TARGETARCH: "amd64" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface FakePackage {
  name: string;
  version: string;
  arch?: string;
  files: Record<string, string>;
  modes?: Record<string, number>;
  postinst?: string;
}

/** A real .deb from a folder tree (dpkg-deb --build), owned by root. */
async function makeDeb(dir: string, p: FakePackage): Promise<string> {
  const root = path.join(dir, `src-${p.name}-${p.arch ?? "amd64"}`);
  await fs.mkdir(path.join(root, "DEBIAN"), { recursive: true });
  await fs.writeFile(path.join(root, "DEBIAN/control"), `Package: ${p.name}\nVersion: ${p.version}\nArchitecture: ${p.arch ?? "amd64"}\nMaintainer: t <t@example.org>\nDescription: test package\n`);
  if (p.postinst) await fs.writeFile(path.join(root, "DEBIAN/postinst"), p.postinst, { mode: 0o755 });
  for (const [file, content] of Object.entries(p.files)) {
    await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await fs.writeFile(path.join(root, file), content, { mode: p.modes?.[file] ?? 0o644 });
    if (p.modes?.[file] !== undefined) await fs.chmod(path.join(root, file), p.modes[file]!);
  }
  const out = path.join(dir, "repo", `${p.name}_${p.version}_${p.arch ?? "amd64"}.deb`);
  await fs.mkdir(path.dirname(out), { recursive: true });
  execFileSync("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", root, out], { stdio: "ignore" });
  return out;
}

const sha256 = async (file: string) => createHash("sha256").update(await fs.readFile(file)).digest("hex");
const exists = (p: string) => fs.lstat(p).then(() => true, () => false);

let repo: string;
let debs: Record<string, string>;

beforeAll(async () => {
  const dir = await tempDir("kiln-deb-install-");
  debs = {
    tool: await makeDeb(dir, {
      name: "tool",
      version: "1.2-3",
      files: {
        "bin/tool": "#!/bin/sh\necho tool\n",
        "usr/bin/helper": "helper",
        "usr/share/doc/tool/copyright": "Copyright: someone\n",
        "usr/share/doc/tool/changelog.gz": "changes",
        "usr/share/man/man1/tool.1.gz": "manual",
        "usr/share/locale/de/LC_MESSAGES/tool.mo": "übersetzt",
        "lib/systemd/system/tool.service": "[Unit]",
        "etc/init.d/tool": "#!/bin/sh",
        "etc/tool/tool.conf": "setting=1\n",
        "usr/lib/tool/gconv/X.so": "module",
      },
      modes: { "bin/tool": 0o755, "usr/bin/helper": 0o4755 },
      postinst: "#!/bin/sh\nadduser --system tool\n",
    }),
    libthing: await makeDeb(dir, { name: "libthing1", version: "0.9", files: { "usr/lib/x86_64-linux-gnu/libthing.so.1": "ELF", "usr/share/doc/libthing1/copyright": "MIT\n" } }),
    // A foreign architecture's copy in the same repository (as a cross toolchain's lock has).
    libthingArm: await makeDeb(dir, { name: "libthing1", version: "0.9", arch: "arm64", files: { "usr/lib/aarch64-linux-gnu/libthing.so.1": "ELF arm", "usr/share/doc/libthing1/copyright": "MIT\n" } }),
  };
  repo = path.join(dir, "repo");
  const packages = execFileSync("dpkg-scanpackages", ["--multiversion", ".", "/dev/null"], { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  await fs.writeFile(path.join(repo, "Packages"), packages);
});

describe("deb-install", () => {
  it("unpacks every locked package, keeps copyright, drops docs and service wiring, merges /usr", async () => {
    const root = path.join(await tempDir(), "dist");
    const r = run(["--debs", repo, "--manifest", "app", root]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("deb-install: tool 1.2-3: maintainer scripts not run (postinst)");
    expect(r.stdout).toContain("deb-install: 2 package(s) into");
    expect(await fs.readFile(path.join(root, "usr/bin/tool"), "utf8")).toBe("#!/bin/sh\necho tool\n");
    expect(await exists(path.join(root, "bin"))).toBe(false);
    expect(await fs.readFile(path.join(root, "usr/share/doc/tool/copyright"), "utf8")).toBe("Copyright: someone\n");
    expect(await fs.readFile(path.join(root, "usr/share/doc/libthing1/copyright"), "utf8")).toBe("MIT\n");
    expect(await fs.readFile(path.join(root, "etc/tool/tool.conf"), "utf8")).toBe("setting=1\n");
    expect(await fs.readFile(path.join(root, "usr/lib/x86_64-linux-gnu/libthing.so.1"), "utf8")).toBe("ELF");
    for (const gone of ["usr/share/doc/tool/changelog.gz", "usr/share/man", "usr/share/locale", "usr/lib/systemd", "lib", "etc/init.d"]) {
      expect(await exists(path.join(root, gone)), gone).toBe(false);
    }
    // No setuid bit survives, the rest of the mode does.
    expect((await fs.stat(path.join(root, "usr/bin/helper"))).mode & 0o7777).toBe(0o755);
    expect((await fs.stat(path.join(root, "usr/bin/tool"))).mode & 0o7777).toBe(0o755);
  });

  it("writes a sorted manifest of name, version, architecture and the .deb's sha256", async () => {
    const root = path.join(await tempDir(), "dist");
    expect(run(["--debs", repo, "--manifest", "app", root]).code).toBe(0);
    const manifest = await fs.readFile(path.join(root, "usr/share/kiln/packages/app.tsv"), "utf8");
    expect(manifest).toBe(
      [
        "# package\tversion\tarchitecture\tsha256 (of the .deb)",
        `libthing1\t0.9\tamd64\t${await sha256(debs.libthing!)}`,
        `tool\t1.2-3\tamd64\t${await sha256(debs.tool!)}`,
        "",
      ].join("\n"),
    );
  });

  it("unpacks only the named packages and honours --exclude", async () => {
    const root = path.join(await tempDir(), "dist");
    const r = run(["--debs", repo, "--exclude", "*/gconv/*", "--exclude", "etc/tool/*", root, "tool"]);
    expect(r.code).toBe(0);
    expect(await exists(path.join(root, "usr/lib/x86_64-linux-gnu/libthing.so.1"))).toBe(false);
    expect(await exists(path.join(root, "usr/lib/tool/gconv/X.so"))).toBe(false);
    expect(await exists(path.join(root, "etc/tool/tool.conf"))).toBe(false);
    const manifest = await fs.readFile(path.join(root, "usr/share/kiln/packages/packages.tsv"), "utf8");
    expect(manifest.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[0])).toEqual(["tool"]);
  });

  it("takes the target architecture's package from a repository that holds two", async () => {
    const root = path.join(await tempDir(), "dist");
    expect(run(["--debs", repo, "--arch", "arm64", root, "libthing1"]).code).toBe(0);
    expect(await fs.readFile(path.join(root, "usr/lib/aarch64-linux-gnu/libthing.so.1"), "utf8")).toBe("ELF arm");
    expect(await exists(path.join(root, "usr/lib/x86_64-linux-gnu"))).toBe(false);
    const manifest = await fs.readFile(path.join(root, "usr/share/kiln/packages/packages.tsv"), "utf8");
    expect(manifest).toContain(`libthing1\t0.9\tarm64\t${await sha256(debs.libthingArm!)}\n`);
    // NAME:ARCH picks one explicitly; every package "for ARCH" leaves the other architecture out.
    const both = path.join(await tempDir(), "dist");
    expect(run(["--debs", repo, both, "libthing1:arm64"]).code).toBe(0);
    expect(await exists(path.join(both, "usr/lib/aarch64-linux-gnu/libthing.so.1"))).toBe(true);
    const all = path.join(await tempDir(), "dist");
    expect(run(["--debs", repo, all]).code).toBe(0);
    expect(await exists(path.join(all, "usr/lib/aarch64-linux-gnu"))).toBe(false);
  });

  it("leaves out what --without names, and refuses a --without that matches nothing", async () => {
    const root = path.join(await tempDir(), "dist");
    const r = run(["--debs", repo, "--without", "libthing1", root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("deb-install: libthing1 left out (--without)\n");
    expect(await exists(path.join(root, "usr/lib/x86_64-linux-gnu/libthing.so.1"))).toBe(false);
    const manifest = await fs.readFile(path.join(root, "usr/share/kiln/packages/packages.tsv"), "utf8");
    expect(manifest).not.toContain("libthing1");
    const bad = run(["--debs", repo, "--without", "nosuch", root]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("deb-install: --without nosuch: nosuch is not among the packages to unpack\n");
  });

  it("refuses a package that is not locked, naming it and the fix", async () => {
    const root = path.join(await tempDir(), "dist");
    const r = run(["--debs", repo, root, "tool", "nosuch"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`deb-install: nosuch (amd64) is not among the locked packages in ${repo} (add it to inputs.debian.packages and run kiln lock)\n`);
  });

  it("refuses to run without a repository, an unknown option, or a bad manifest name", async () => {
    const dir = await tempDir();
    expect(run(["--debs", dir, path.join(dir, "x")]).stderr).toContain(`${dir}/Packages is missing`);
    const unknown = run(["--debs", repo, "--frobnicate"]);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toBe("deb-install: unknown option --frobnicate (see deb-install --help)\n");
    expect(run(["--debs", repo, "--manifest", "../evil", path.join(dir, "x")]).code).toBe(64);
  });

  it("explains itself", () => {
    const r = run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("deb-install [--debs DIR] [--arch ARCH] [--manifest NAME]");
    expect(r.stdout).not.toContain("set -o");
  });
});
