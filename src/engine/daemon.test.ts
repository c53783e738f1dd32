import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/temp-dir.ts";
import { classifyDaemon, connectTarget, socketErrorState, socketState } from "./daemon.ts";

const timedOut = { ok: false, timedOut: true, stdout: "", stderr: "" };
const cannotConnect = { ok: false, timedOut: false, stdout: "", stderr: "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?\n" };

describe("classifyDaemon", () => {
  it("calls a daemon that answered answering, whatever the socket", () => {
    expect(classifyDaemon({ ok: true, timedOut: false, stdout: "{}", stderr: "" }, "unknown")).toBe("answers");
  });

  it("calls a timed-out probe busy when the socket accepts connections, and when it cannot tell", () => {
    expect(classifyDaemon(timedOut, "accepts")).toBe("busy");
    expect(classifyDaemon(timedOut, "unknown")).toBe("busy");
    // Connecting itself hangs: the listen backlog is full.
    expect(classifyDaemon(timedOut, "silent")).toBe("busy");
  });

  it("calls it down when nothing listens, even if the probe also timed out", () => {
    expect(classifyDaemon(cannotConnect, "absent")).toBe("down");
    expect(classifyDaemon(cannotConnect, "refused")).toBe("down");
    expect(classifyDaemon(timedOut, "refused")).toBe("down");
    // ssh:// and other addresses kiln cannot connect to itself: the client's words decide.
    expect(classifyDaemon(cannotConnect, "unknown")).toBe("down");
  });

  it("tells a daemon that refuses this user, and one that answers with an error, from both", () => {
    expect(classifyDaemon({ ...cannotConnect, stderr: "permission denied while trying to connect to the Docker daemon socket" }, "accepts")).toBe("denied");
    expect(classifyDaemon(cannotConnect, "denied")).toBe("denied");
    expect(classifyDaemon({ ok: false, timedOut: false, stdout: "", stderr: "Error response from daemon: 500 Internal Server Error" }, "accepts")).toBe("failing");
  });
});

describe("socketState", () => {
  it("parses the addresses it can connect to", () => {
    expect(connectTarget("unix:///var/run/docker.sock")).toEqual({ path: "/var/run/docker.sock" });
    expect(connectTarget("tcp://10.0.0.5:2376")).toEqual({ host: "10.0.0.5", port: 2376 });
    expect(connectTarget("tcp://[::1]:1234")).toEqual({ host: "::1", port: 1234 });
    expect(connectTarget("ssh://me@far")).toBeUndefined();
    expect(socketErrorState("ENOENT")).toBe("absent");
    expect(socketErrorState("ECONNREFUSED")).toBe("refused");
    expect(socketErrorState("EACCES")).toBe("denied");
  });

  it("finds a listening socket, a stale socket file and no socket at all", async () => {
    const dir = await tempDir("kiln-daemon-");
    const live = path.join(dir, "live.sock");
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(live, r));
    // A socket file nobody listens on: what a killed daemon leaves behind.
    const stale = path.join(dir, "stale.sock");
    const holder = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(stale)}, () => console.log("up"))`], { stdio: ["ignore", "pipe", "ignore"] });
    await new Promise((r) => holder.stdout.once("data", r));
    holder.kill("SIGKILL");
    await new Promise((r) => holder.once("close", r));
    try {
      expect((await fs.stat(stale)).isSocket()).toBe(true);
      expect(await socketState(`unix://${live}`)).toBe("accepts");
      expect(await socketState(`unix://${path.join(dir, "missing.sock")}`)).toBe("absent");
      expect(await socketState(`unix://${stale}`)).toBe("refused");
      expect(await socketState("ssh://me@far")).toBe("unknown");
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
