import path from "node:path";
import { describe, expect, it } from "vitest";
import { KilnError } from "../errors.ts";
import { createProgress } from "./progress.ts";
import { lostEngine, runEngineCommand } from "./run.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../../test/fixtures/progress");
const fake = (stderrFile: string, code: number, stdout?: string): string[] => [
  process.execPath,
  path.join(FIXTURES, "fake-engine.mjs"),
  path.join(FIXTURES, stderrFile),
  String(code),
  ...(stdout === undefined ? [] : [stdout]),
];

class Sink {
  text = "";
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

describe("runEngineCommand", () => {
  it("feeds stderr to the progress and collects stdout", async () => {
    const out = new Sink();
    const progress = createProgress("plain", out);
    const result = await runEngineCommand(fake("buildx-success.jsonl", 0, '{"containerimage.digest":"sha256:x"}'), { progress });
    expect(result).toEqual({ code: 0, stdout: '{"containerimage.digest":"sha256:x"}' });
    expect(progress.stats()).toEqual({ steps: 14, cached: 4 });
    expect(out.text.split("\n").at(-4)).toBe("done: 14 steps, 4 cached, 1.4s");
  });

  it("returns the failed step and its logs on a non-zero exit", async () => {
    const out = new Sink();
    const result = await runEngineCommand(fake("buildx-failure.jsonl", 1), { progress: createProgress("plain", out) });
    expect(result.code).toBe(1);
    const [headline, second, ...logs] = result.failure?.split("\n") ?? [];
    expect(headline).toMatch(/^\[linux\/amd64\] #3 \[3\/3\] RUN for i in .* failed: did not complete successfully: exit code: 3$/);
    expect(second).toBe("last 20 log lines of #3:");
    expect(logs.at(-1)).toBe("  error: undefined reference to 'main'");
    expect(out.text).toContain("failed: 10 steps, 2 cached, 0.6s\n");
  });

  it("returns the engine's last lines when it failed before streaming progress", async () => {
    const result = await runEngineCommand(fake("buildx-bad-flag.txt", 125), { progress: createProgress("quiet", new Sink()) });
    expect(result).toEqual({
      code: 125,
      stdout: "",
      failure: "unknown flag: --bogus\nSee 'docker buildx build --help'.",
    });
  });

  it("says so when the engine failed without a word", async () => {
    const result = await runEngineCommand([process.execPath, "-e", "process.exit(3)"], { progress: createProgress("quiet", new Sink()) });
    expect(result.failure).toBe(`${process.execPath} exited with code 3`);
  });

  it("passes env and cwd to the command", async () => {
    const result = await runEngineCommand(
      [process.execPath, "-e", "process.stdout.write(process.env.KILN_PROBE + ' ' + process.cwd())"],
      { progress: createProgress("quiet", new Sink()), env: { ...process.env, KILN_PROBE: "yes" }, cwd: FIXTURES },
    );
    expect(result.stdout).toBe(`yes ${FIXTURES}`);
  });

  it("turns a missing engine binary into a KilnError", async () => {
    const run = runEngineCommand(["kiln-no-such-engine", "build"], { progress: createProgress("quiet", new Sink()) });
    await expect(run).rejects.toThrow(KilnError);
    await expect(run).rejects.toThrow("kiln-no-such-engine is not installed or not on PATH");
  });
});

describe("lostEngine", () => {
  it("tells a daemon that went away from a step that failed", () => {
    expect(lostEngine("ERROR: failed to receive status: rpc error: code = Unavailable desc = error reading from server: EOF")).toBe(true);
    expect(lostEngine("ERROR: failed to solve: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")).toBe(true);
    expect(lostEngine('#4 [1/2] RUN make failed: process "/bin/sh -c make" did not complete successfully: exit code: 2')).toBe(false);
  });
});
