import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const TSX = path.resolve(import.meta.dirname, "../../node_modules/.bin/tsx");

describe("exitAfterOutput", () => {
  it("exits with the code only after 4 MB written to a pipe are read, a timer still pending", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-exit-"));
    const script = path.join(dir, "big.mts");
    await fs.writeFile(
      script,
      `import { exitAfterOutput } from ${JSON.stringify(path.resolve(import.meta.dirname, "exit.ts"))};\n` +
        `setTimeout(() => {}, 60_000);\nprocess.stdout.write("x".repeat(4 * 1024 * 1024));\nprocess.stderr.write("done\\n");\nexitAfterOutput(3);\n`,
    );
    const r = await promisify(execFile)(TSX, [script], { maxBuffer: 16 * 1024 * 1024 }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    await fs.rm(dir, { recursive: true, force: true });
    expect("code" in r ? r.code : 0).toBe(3);
    expect(r.stdout.length).toBe(4 * 1024 * 1024);
    expect(r.stderr).toBe("done\n");
  });
});
