/**
 * What to undo when the process is interrupted (Ctrl-C, a CI runner's
 * SIGTERM, a closed terminal): temporary folders, child processes. Node's
 * default for these signals ends the process at once, without running
 * `finally` blocks, so whatever a `finally` would remove is registered here
 * too. The handlers exist only while something is registered; each undo runs
 * once, newest first, synchronously; then the signal is raised again, so the
 * process ends the way it would have (and another module's handler, if any,
 * still runs).
 */
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type Undo = (signal: NodeJS.Signals | "exit") => void;

const pending = new Map<number, Undo>();
let next = 0;

function runAll(signal: NodeJS.Signals | "exit"): void {
  const undos = [...pending.values()].reverse();
  pending.clear();
  for (const undo of undos) {
    try {
      undo(signal);
    } catch {
      // Best effort: one failed undo must not keep the others from running.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll(signal);
  uninstall();
  process.kill(process.pid, signal);
}

function onExit(): void {
  runAll("exit");
}

function install(): void {
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on("exit", onExit);
}

function uninstall(): void {
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off("exit", onExit);
}

/**
 * Registers `undo` (synchronous, safe to run when there is nothing left to
 * undo) until the returned function is called; also runs on process exit.
 */
export function onInterrupt(undo: Undo): () => void {
  if (pending.size === 0) install();
  const id = next++;
  pending.set(id, undo);
  return () => {
    if (pending.delete(id) && pending.size === 0) uninstall();
  };
}

/** A child process gets the signal that interrupted kiln (it may not be in kiln's process group). */
export function stopOnInterrupt(child: { kill(signal?: NodeJS.Signals): boolean; exitCode: number | null; signalCode: string | null }): () => void {
  return onInterrupt((signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal === "exit" ? "SIGTERM" : signal);
  });
}

/** How many undos are registered (for tests). */
export function pendingUndos(): number {
  return pending.size;
}
