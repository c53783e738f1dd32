import { describe, expect, it } from "vitest";
import { formatResults, junitXml } from "./results.ts";
import { judgeRun } from "./run-outcome.ts";

const expected = { exitCode: 0, outputContains: ["hello"], outputExcludes: ["denied"], timeoutMs: 5000 };
const done = (code: number, output: string, timedOut = false) => ({ code, output, timedOut });

describe("judgeRun", () => {
  it("passes on the exit code and strings asked for, saying what it checked", () => {
    expect(judgeRun(done(0, "hello world\n"), expected)).toEqual({ ok: true, message: "exit 0, output has 1 expected string(s) and none of 1 unwanted", tail: ["hello world"] });
    expect(judgeRun(done(3, ""), { exitCode: 3, outputContains: [], timeoutMs: 1 }).message).toBe("exit 3");
  });

  it("fails on a timeout, another exit code, a missing string, an unwanted string, keeping the last 10 lines", () => {
    const long = Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n");
    expect(judgeRun(done(137, long, true), expected)).toMatchObject({ ok: false, message: "timed out after 5s", tail: Array.from({ length: 10 }, (_, i) => `line ${i + 20}`) });
    expect(judgeRun(done(1, "hello"), expected).message).toBe("exit code 1, expected 0");
    expect(judgeRun(done(0, "bye"), expected).message).toBe('output lacks "hello"');
    expect(judgeRun(done(0, "hello, access denied"), expected).message).toBe('output has "denied", which it must not');
  });
});

describe("client-test results", () => {
  it("keep the step output for JUnit and show the tail under a failure", () => {
    const results = [
      { rule: "client-test", name: "push / put", subject: "s:image linux/arm64", ok: true, message: "exit 0", output: "stored <1>\n" },
      { rule: "client-test", name: "push / get", subject: "s:image linux/arm64", ok: false, message: "exit code 1, expected 0", details: ["refused", "not run: list"], output: "refused\n" },
    ];
    expect(formatResults(results)).toBe(
      "s:image linux/arm64\n  ✓ client-test push / put: exit 0\n  ✗ client-test push / get: exit code 1, expected 0\n      refused\n      not run: list\nFAILED 1 of 2 checks: s:image linux/arm64 client-test (push / get)\n",
    );
    const xml = junitXml(results);
    expect(xml).toContain('<testcase classname="s:image linux/arm64" name="client-test: push / put" time="0.000">\n      <system-out>stored &lt;1&gt;\n</system-out>\n    </testcase>');
    expect(xml).toContain('<failure message="exit code 1, expected 0" type="client-test">exit code 1, expected 0\nrefused\nnot run: list</failure>\n      <system-out>refused\n</system-out>');
  });
});
