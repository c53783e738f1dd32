/**
 * Is an engine daemon there, busy, or gone? A probe that times out says
 * nothing by itself: a daemon that accepts connections but is slow to answer
 * (garbage collection, a large image import) is busy, not missing, and
 * telling its user to run setup would mislead them. The socket says which:
 * no socket file or a refused connection means nothing listens.
 */
import net from "node:net";
import type { ProbeResult } from "./probe.ts";

/** What connecting to the daemon's address found, before any request. */
export type SocketState = "accepts" | "absent" | "refused" | "denied" | "silent" | "unknown";

/**
 * - `answers`: it answered the probe.
 * - `down`: nothing listens (no socket, connection refused): start it (`kiln engine setup`).
 * - `busy`: it accepts connections (or we cannot tell) but the probe timed out: wait.
 * - `denied`: it is there but refuses this user.
 * - `failing`: it answered with an error.
 */
export type DaemonState = "answers" | "down" | "busy" | "denied" | "failing";

/** Connects to `unix:///path` or `tcp://host:port` and hangs up; other schemes (ssh://, ...) are `unknown`. */
export function socketState(address: string, timeoutMs = 1500): Promise<SocketState> {
  const target = connectTarget(address);
  if (!target) return Promise.resolve("unknown");
  return new Promise((resolve) => {
    const sock = net.connect(target);
    const done = (s: SocketState) => {
      sock.destroy();
      resolve(s);
    };
    sock.setTimeout(timeoutMs, () => done("silent"));
    sock.once("connect", () => done("accepts"));
    sock.once("error", (e: NodeJS.ErrnoException) => done(socketErrorState(e.code)));
  });
}

export function connectTarget(address: string): net.NetConnectOpts | undefined {
  if (address.startsWith("unix://")) return { path: address.slice("unix://".length) };
  const tcp = address.match(/^tcp:\/\/\[?([^\]]+?)\]?:(\d+)\/?$/);
  if (tcp) return { host: tcp[1]!, port: Number(tcp[2]) };
  return undefined;
}

export function socketErrorState(code: string | undefined): SocketState {
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return "absent";
    case "ECONNREFUSED":
    case "ECONNRESET":
      return "refused";
    case "EACCES":
    case "EPERM":
      return "denied";
    case "ETIMEDOUT":
    case "EAGAIN":
      return "silent";
    default:
      return "refused";
  }
}

const NOT_RUNNING = /cannot connect to the docker daemon|connection refused|no such file or directory|is the docker daemon running/i;

/** The daemon's state from one probe of it and a look at its socket. Pure. */
export function classifyDaemon(probe: Pick<ProbeResult, "ok" | "timedOut" | "stderr" | "stdout">, socket: SocketState, answered = probe.ok): DaemonState {
  if (answered) return "answers";
  if (socket === "absent" || socket === "refused") return "down";
  if (socket === "denied" || /permission denied/i.test(probe.stderr)) return "denied";
  // A full listen backlog makes even connecting wait: that is a daemon too busy to accept.
  if (probe.timedOut || socket === "silent") return "busy";
  if (NOT_RUNNING.test(probe.stderr)) return "down";
  return "failing";
}
