import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/temp-dir.ts";
import { onInterrupt, pendingUndos } from "./interrupt.ts";
import { withTempDir } from "./temp.ts";

const here = path.dirname(new URL(import.meta.url).pathname);

/** Runs a script that holds a temp folder and a child process, and prints both; resolves once it has. */
async function holder(dir: string): Promise<{ child: ReturnType<typeof spawn>; folder: string; grandchild: number }> {
  const script = path.join(dir, "hold.mts");
  await fs.writeFile(
    script,
    `import { withTempDir } from ${JSON.stringify(path.join(here, "temp.ts"))};
     import { run } from ${JSON.stringify(path.join(here, "run.ts"))};
     await withTempDir("kiln-hold-", async (folder) => {
       const sleeper = run("sleep", ["600"], { what: "sleep", allowFailure: true });
       await new Promise((r) => setTimeout(r, 300));
       const pid = (await import("node:child_process")).execFileSync("pgrep", ["-P", String(process.pid), "sleep"]).toString().trim();
       process.stdout.write(folder + " " + pid + "\\n");
       await sleeper;
     }, { parent: ${JSON.stringify(dir)} });`,
  );
  const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"], cwd: here, detached: true });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      if (buf.includes("\n")) resolve(buf.trim());
    });
    child.on("exit", (code) => reject(new Error(`child exited early (${code})`)));
  });
  const [folder, grandchild] = line.split(" ");
  return { child, folder: folder!, grandchild: Number(grandchild) };
}

/** Running, not merely a zombie waiting for an init that may never reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

describe("interrupted", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`removes temp folders, stops child processes, and dies of ${signal} when only kiln gets it`, async () => {
      const dir = await tempDir("kiln-interrupt-");
      const { child, folder, grandchild } = await holder(dir);
      expect(existsSync(folder)).toBe(true);
      expect(alive(grandchild)).toBe(true);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, sig) => resolve({ code, signal: sig })));
      child.kill(signal);
      expect(await exited).toEqual({ code: null, signal });
      expect(existsSync(folder)).toBe(false);
      for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
      expect(alive(grandchild)).toBe(false);
    });
  }
});

describe("withTempDir", () => {
  it("removes the folder after success and after failure, and leaves no handler behind", async () => {
    const parent = await tempDir("kiln-temp-");
    let seen = "";
    expect(await withTempDir("x-", async (d) => ((seen = d), 42), { parent })).toBe(42);
    expect(existsSync(seen)).toBe(false);
    await expect(withTempDir("x-", async (d) => ((seen = d), Promise.reject(new Error("boom"))), { parent })).rejects.toThrow("boom");
    expect(existsSync(seen)).toBe(false);
    expect(await fs.readdir(parent)).toEqual([]);
    expect(pendingUndos()).toBe(0);
    expect(process.listenerCount("SIGINT")).toBe(0);
  });

  it("keeps the folder when asked, and sets its mode", async () => {
    const parent = await tempDir("kiln-temp-");
    const kept = await withTempDir("k-", async (d) => d, { parent, keep: true, mode: 0o700 });
    expect(((await fs.stat(kept)).mode & 0o777).toString(8)).toBe("700");
  });

  it("runs undos newest first, once, and forgets them on request", () => {
    const forget = onInterrupt(() => undefined);
    expect(pendingUndos()).toBe(1);
    forget();
    forget();
    expect(pendingUndos()).toBe(0);
  });
});
