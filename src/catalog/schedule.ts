/**
 * Runs one task per node, a node only after all its (selected) parents
 * finished, at most `jobs` at a time. A failed node skips its descendants;
 * independent branches go on, so one broken image does not stop the others.
 */

export type Outcome<T> = { ref: string; status: "done"; value: T } | { ref: string; status: "failed"; error: unknown } | { ref: string; status: "blocked"; by: string };

export interface ScheduleOptions<T> {
  /** Node refs in a valid order (parents first). */
  refs: string[];
  /** Parents of a node; those outside `refs` are taken as already there. */
  parentsOf: (ref: string) => string[];
  jobs: number;
  run: (ref: string) => Promise<T>;
  /** Stops starting new nodes after the first failure (running ones finish). */
  failFast?: boolean;
}

export async function schedule<T>(opts: ScheduleOptions<T>): Promise<Outcome<T>[]> {
  const selected = new Set(opts.refs);
  const waitingOn = new Map(opts.refs.map((r) => [r, new Set(opts.parentsOf(r).filter((p) => selected.has(p)))]));
  const outcomes = new Map<string, Outcome<T>>();
  const queue = [...opts.refs];
  let running = 0;
  let stop = false;

  return new Promise((resolve) => {
    const finish = (outcome: Outcome<T>): void => {
      outcomes.set(outcome.ref, outcome);
      if (outcome.status === "failed") stop ||= !!opts.failFast;
      pump();
    };
    const pump = (): void => {
      // Nodes whose parent did not succeed can never run.
      for (const ref of [...queue]) {
        const bad = [...waitingOn.get(ref)!].find((p) => outcomes.has(p) && outcomes.get(p)!.status !== "done");
        if (bad || stop) {
          queue.splice(queue.indexOf(ref), 1);
          outcomes.set(ref, { ref, status: "blocked", by: bad ? (blockedRoot(outcomes, bad) ?? bad) : "an earlier failure" });
        }
      }
      while (running < Math.max(1, opts.jobs)) {
        const next = queue.find((r) => [...waitingOn.get(r)!].every((p) => outcomes.get(p)?.status === "done"));
        if (!next) break;
        queue.splice(queue.indexOf(next), 1);
        running++;
        opts.run(next).then(
          (value) => (running--, finish({ ref: next, status: "done", value })),
          (error: unknown) => (running--, finish({ ref: next, status: "failed", error })),
        );
      }
      // Nothing running and nothing startable: done (anything left had a parent outside the order).
      if (running === 0) {
        for (const ref of queue) outcomes.set(ref, { ref, status: "blocked", by: "an earlier failure" });
        resolve(opts.refs.map((r) => outcomes.get(r)!));
      }
    };
    pump();
  });
}

/** The failed node at the root of a chain of blocked ones. */
function blockedRoot<T>(outcomes: Map<string, Outcome<T>>, ref: string): string | undefined {
  const o = outcomes.get(ref);
  return o?.status === "blocked" && outcomes.has(o.by) ? blockedRoot(outcomes, o.by) : ref;
}
