import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { definitionSchema } from "../definition/schema.ts";
import { parseDockerfile } from "./dockerfile.ts";
import { sortFindings } from "./findings.ts";
import { lintDockerfile } from "./lint-dockerfile.ts";
import { findShellScripts, shellcheck } from "./shellcheck.ts";

const def = (extra: Record<string, unknown> = {}) => definitionSchema.parse({ name: "app", category: "infrastructure", description: "d", parents: { debian: "debian" }, ...extra });

function rules(dockerfile: string, extra: Record<string, unknown> = {}): string[] {
  const d = def(extra);
  const targets = Object.entries(d.targets).map(([name, t]) => ({ name, stage: t.stage, runtime: t.runtime ?? d.runtime }));
  return sortFindings(lintDockerfile("Dockerfile", parseDockerfile(dockerfile), d, targets)).map((f) => `${f.line}:${f.rule}`);
}

const GOOD = `FROM debian AS build
RUN --mount=type=bind,from=debs,source=amd64,target=/debs \\
    apt-get -o Dir::Etc::SourceList=/debs/list install -y \\
      gcc
FROM scratch
COPY --from=build /out /app
USER 2000
HEALTHCHECK CMD ["/app", "health"]
`;

describe("Dockerfile rules", () => {
  it("accepts a parent, a stage, scratch and the locked repository", () => {
    expect(rules(GOOD)).toEqual([]);
  });

  it("rejects ARG and EXPOSE in a target's own stages (their history lines depend on the BuildKit version), not in build stages", () => {
    const df = `FROM debian AS build\nARG TARGETARCH\nRUN --mount=type=bind,from=debs,source=\${TARGETARCH},target=/debs true\nFROM scratch AS files\nEXPOSE 80\nFROM files\nARG TARGETARCH\nCOPY --from=build /out /app\nUSER 2000\nHEALTHCHECK CMD x\n`;
    expect(rules(df)).toEqual(["5:engine-neutral-history", "7:engine-neutral-history"]);
  });

  it("accepts a stage per architecture picked with the global TARGETARCH, only when every platform has its stage", () => {
    const df = (arches: string[]) => arches.map((a) => `FROM scratch AS files-${a}\nCOPY ${a}.tar /\n`).join("") + "FROM files-${TARGETARCH}\nUSER 2000\nHEALTHCHECK CMD x\n";
    expect(rules(df(["amd64", "arm64"]))).toEqual([]);
    expect(rules(df(["amd64"]))).toEqual(["3:from-source"]);
  });

  it("rejects tags, unknown images and build-arg images in FROM", () => {
    const df = `ARG BASE=alpine\nFROM debian:latest AS a\nFROM debian@sha256:${"0".repeat(64)} AS b\nFROM ubuntu AS c\nFROM \${BASE} AS d\nFROM \${OTHER}\nUSER 1\nHEALTHCHECK CMD x\n`;
    expect(rules(df)).toEqual(["2:from-tag", "3:from-tag", "4:from-source", "5:from-source", "6:from-source"]);
  });

  it("rejects apt installs outside the locked repository, wherever the flags are", () => {
    const df = `FROM debian AS build\nRUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y curl\nRUN --mount=type=cache,target=/var/cache/apt apt install -y \\\n  vim\nRUN apt-get purge -y x\nFROM scratch\nUSER 2000\nHEALTHCHECK CMD x\n`;
    expect(rules(df)).toEqual(["2:apt-unlocked", "3:apt-unlocked"]);
  });

  it("rejects RUN, a missing or root USER and a missing HEALTHCHECK in the final stage", () => {
    expect(rules(`FROM debian\nRUN true\n`)).toEqual(["1:final-stage-user", "1:healthcheck", "2:final-stage-run"]);
    expect(rules(`FROM debian\nUSER root\nHEALTHCHECK NONE\n`)).toEqual(["2:final-stage-user", "3:healthcheck"]);
    expect(rules(`FROM debian\nUSER 0:0\nHEALTHCHECK CMD x\n`)).toEqual(["2:final-stage-user"]);
  });

  it("inherits USER and HEALTHCHECK through earlier stages", () => {
    expect(rules(`FROM debian AS runtime\nUSER 2000\nHEALTHCHECK CMD x\nFROM runtime\nCOPY a /a\n`)).toEqual([]);
  });

  it("allows RUN in the final stage when the definition says so, and skips service rules for tooling", () => {
    expect(rules(`FROM debian\nRUN true\nUSER 2000\nHEALTHCHECK CMD x\n`, { runtime: { allowRunInFinalStage: true } })).toEqual([]);
    expect(rules(`FROM debian\nRUN true\nUSER 2000\n`, { runtime: { tooling: true } })).toEqual([]);
  });

  it("checks each target's stage", () => {
    const df = `FROM debian AS builder\nRUN true\nUSER 2000\nFROM scratch AS runtime\nCOPY --from=builder /a /a\nUSER 2000\nHEALTHCHECK CMD x\n`;
    const targets = { builder: { runtime: { tooling: true } }, runtime: {} };
    expect(rules(df, { targets })).toEqual([]);
    expect(rules(df, { targets: { builder: {}, runtime: {} } })).toEqual(["1:healthcheck", "2:final-stage-run"]);
  });

  it("rejects a syntax directive", () => {
    expect(rules(`# syntax=docker/dockerfile:1\n${GOOD}`)).toEqual(["1:no-syntax-directive"]);
  });

  it("reads heredocs and continuations", () => {
    const df = parseDockerfile(`FROM debian AS a\nRUN <<EOF\napt-get install -y x\nEOF\nCOPY \\\n  a \\\n  b\n`);
    expect(df.stages[0]!.instructions.map((i) => [i.keyword, i.line, i.args])).toEqual([
      ["RUN", 2, "<<EOF\napt-get install -y x\nEOF"],
      ["COPY", 5, "a b"],
    ]);
  });
});

describe("shellcheck", () => {
  it("finds scripts by extension and by shebang, and reports rule ids with lines", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-sc-"));
    try {
      await fs.mkdir(path.join(dir, "sub", "node_modules"), { recursive: true });
      await fs.writeFile(path.join(dir, "a.sh"), "#!/bin/sh\necho ok\n");
      await fs.writeFile(path.join(dir, "sub", "entrypoint"), "#!/usr/bin/env bash\nset -eu\nrm -rf $1/x\n");
      await fs.writeFile(path.join(dir, "sub", "data"), "not a script\n");
      await fs.writeFile(path.join(dir, "sub", "tool.py"), "#!/bin/sh\n");
      await fs.writeFile(path.join(dir, "sub", "node_modules", "x.sh"), "echo $1\n");
      const scripts = await findShellScripts(dir);
      expect(scripts.map((s) => path.relative(dir, s))).toEqual(["a.sh", "sub/entrypoint"]);
      const findings = await shellcheck(scripts);
      expect(findings.map((f) => [path.relative(dir, f.file), f.line, f.rule])).toEqual([["sub/entrypoint", 3, "SC2086"]]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe("tool images", () => {
  it("may run as root only when the definition declares it", () => {
    expect(rules(`FROM debian\nRUN true\n`, { runtime: { tooling: true, user: "0" } })).toEqual([]);
    expect(rules(`FROM debian\nRUN true\n`, { runtime: { tooling: true } })).toEqual(["1:final-stage-user"]);
  });
});

describe("settings inherited from a catalog parent", () => {
  const lintWith = (dockerfile: string, inherited: Record<string, { USER?: string; HEALTHCHECK?: string }>) => {
    const d = def();
    return sortFindings(lintDockerfile("Dockerfile", parseDockerfile(dockerfile), d, [{ name: "image", runtime: d.runtime }], inherited)).map((f) => `${f.line}:${f.rule}:${f.message}`);
  };

  it("accepts USER and HEALTHCHECK from the parent's final stage, and names the parent when it is root", () => {
    expect(lintWith("FROM debian AS image\nCOPY a /a\n", { debian: { USER: "2000:2000", HEALTHCHECK: "CMD x" } })).toEqual([]);
    expect(lintWith("FROM debian AS image\nCOPY a /a\n", { debian: { USER: "root" } })).toEqual([
      "1:final-stage-user:target image (stage image) runs as root (USER root from parent debian)",
      "1:healthcheck:target image (stage image) declares no HEALTHCHECK (or set runtime.healthcheck: false)",
    ]);
  });
});
