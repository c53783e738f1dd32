import { describe, expect, it } from "vitest";
import { run } from "./run.ts";

describe("run", () => {
  it("returns stdout and the exit code", async () => {
    const r = await run("sh", ["-c", "echo hi; exit 3"], { what: "sh", allowFailure: true });
    expect(r).toEqual({ stdout: Buffer.from("hi\n"), stderr: "", code: 3 });
  });

  it("gives a program without input an empty stdin", async () => {
    const r = await run("cat", [], { what: "cat" });
    expect(r.stdout.toString()).toBe("");
  });

  it("feeds input to the program", async () => {
    const r = await run("wc", ["-c"], { what: "wc", input: "12345" });
    expect(r.stdout.toString().trim()).toBe("5");
  });

  it("survives a program that exits without reading a large input", async () => {
    const r = await run("true", [], { what: "true", input: Buffer.alloc(4 << 20) });
    expect(r.code).toBe(0);
  });

  it("quotes the last stderr line of a failure", async () => {
    await expect(run("sh", ["-c", "echo one >&2; echo two >&2; exit 1"], { what: "step", hint: "do x" })).rejects.toThrow(/^step failed: two$/);
  });

  it("names a missing program and how to install it", async () => {
    await expect(run("kiln-no-such-tool", [], { what: "probe" })).rejects.toThrow("probe: kiln-no-such-tool is not installed");
  });
});
