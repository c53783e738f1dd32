/** bin/kiln before `npm ci`: one line naming what to install, never a Node stack trace. */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPO, runCommand } from "../e2e/helpers.ts";

let dir: string;
beforeAll(async () => {
  // A checkout without node_modules: bin/kiln alone is enough, it finds everything else from its own path.
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bin-"));
  await fs.mkdir(path.join(dir, "bin"));
  await fs.copyFile(path.join(REPO, "bin", "kiln"), path.join(dir, "bin", "kiln"));
  await fs.chmod(path.join(dir, "bin", "kiln"), 0o755);
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

it("without node_modules names npm ci", async () => {
  const r = await runCommand(path.join(dir, "bin", "kiln"), ["ls"]);
  expect(r).toEqual({ code: 1, stdout: "", stderr: `kiln: the node dependencies are not installed; run \`npm ci\` in ${dir}\n` });
});

it("without node names Node.js 20", async () => {
  // A PATH with the shell tools bin/kiln uses and no node.
  const tools = path.join(dir, "tools");
  await fs.mkdir(tools, { recursive: true });
  for (const tool of ["readlink", "dirname"]) await fs.symlink(path.join("/usr/bin", tool), path.join(tools, tool)).catch(() => undefined);
  const r = await runCommand(path.join(dir, "bin", "kiln"), ["ls"], { PATH: tools });
  expect(r).toEqual({ code: 1, stdout: "", stderr: `kiln: Node.js 20 or newer is needed and node is not on PATH; install it, then run \`npm ci\` in ${dir}\n` });
});
