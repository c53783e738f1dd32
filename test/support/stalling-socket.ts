/**
 * A stand-in for a daemon too busy to answer: a unix socket that accepts
 * connections and says nothing, and, once `answerAfterMs` has passed, hands
 * new connections to a real daemon's socket (a busy daemon that recovers).
 */
import fs from "node:fs/promises";
import net from "node:net";

export interface StallingSocket {
  host: string;
  close(): Promise<void>;
}

export async function stallingSocket(socketPath: string, opts: { answerAfterMs?: number; upstream?: string } = {}): Promise<StallingSocket> {
  await fs.rm(socketPath, { force: true });
  const started = Date.now();
  const held = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const answer = opts.answerAfterMs !== undefined && opts.upstream && Date.now() - started >= opts.answerAfterMs;
    if (!answer) {
      held.add(client);
      client.on("data", () => {}); // read the request, never reply
      client.on("close", () => held.delete(client));
      client.on("error", () => {});
      return;
    }
    const upstream = net.connect(opts.upstream!);
    client.pipe(upstream).pipe(client);
    const end = () => (client.destroy(), upstream.destroy());
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    host: `unix://${socketPath}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of held) s.destroy();
        server.close(() => resolve());
      }),
  };
}
