import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { definitionSchema } from "../definition/schema.ts";
import { gitMetadata, licenseFromText, metadataBuildArgs, metadataLabels, normalizeSourceUrl } from "./metadata.ts";

let repo: string;

beforeEach(async () => {
  repo = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-git-test-"));
});
afterEach(async () => {
  await fs.rm(repo, { recursive: true, force: true });
});

function git(args: string[], date = "2024-01-01T00:00:00Z"): string {
  return execFileSync("git", args, {
    cwd: repo,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
      GIT_CONFIG_GLOBAL: "/dev/null",
    },
  }).trim();
}

async function write(rel: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(path.join(repo, rel)), { recursive: true });
  await fs.writeFile(path.join(repo, rel), text);
}

async function commitAll(message: string, date: string): Promise<string> {
  git(["add", "-A"]);
  git(["commit", "-q", "-m", message], date);
  return git(["rev-parse", "HEAD"]);
}

const imageDir = (name: string) => path.join(repo, "images", name);

describe("gitMetadata", () => {
  it("takes created, revision and version from the last commit touching the image", async () => {
    git(["init", "-q", "-b", "main"]);
    git(["remote", "add", "origin", "git@git.example.com:me/images.git"]);
    await write("LICENSE", "                                 Apache License\n                           Version 2.0, January 2004\n");
    await write("images/a/Dockerfile", "FROM scratch\n");
    await write("images/b/Dockerfile", "FROM scratch\n");
    const first = await commitAll("both", "2024-01-02T03:04:05+02:00");
    git(["tag", "v1.0.0"]);
    await write("images/b/Dockerfile", "FROM scratch\nLABEL x=1\n");
    const second = await commitAll("b only", "2024-03-01T00:00:00Z");

    const a = await gitMetadata(imageDir("a"), repo);
    expect(a).toEqual({
      created: "2024-01-02T01:04:05Z",
      revision: first,
      version: "v1.0.0",
      source: "https://git.example.com/me/images",
      licenses: "Apache-2.0",
      dirty: false,
    });
    const b = await gitMetadata(imageDir("b"), repo);
    expect(b.created).toBe("2024-03-01T00:00:00Z");
    expect(b.revision).toBe(second);
    expect(b.version).toBe(`v1.0.0-1-g${second.slice(0, 7)}`);
  });

  it("marks an image dirty for its own uncommitted or untracked changes only", async () => {
    git(["init", "-q", "-b", "main"]);
    await write("images/a/Dockerfile", "FROM scratch\n");
    await write("images/b/Dockerfile", "FROM scratch\n");
    const c = await commitAll("init", "2024-01-01T00:00:00Z");
    await write("images/b/Dockerfile", "changed\n");
    expect((await gitMetadata(imageDir("a"), repo)).revision).toBe(c);
    const b = await gitMetadata(imageDir("b"), repo);
    expect(b).toMatchObject({ revision: `${c}-dirty`, version: `${c.slice(0, 7)}-dirty`, dirty: true });
    await write("images/a/new-file", "x\n");
    expect((await gitMetadata(imageDir("a"), repo)).revision).toBe(`${c}-dirty`);
  });

  it("falls back to no git fields outside a repository or before the first commit", async () => {
    await write("LICENSE", "Permission is hereby granted, free of charge, to any person obtaining a copy\n");
    await write("images/a/Dockerfile", "FROM scratch\n");
    expect(await gitMetadata(imageDir("a"), repo)).toEqual({ licenses: "MIT" });
    git(["init", "-q", "-b", "main"]);
    expect(await gitMetadata(imageDir("a"), repo)).toEqual({ licenses: "MIT" });
    expect(metadataBuildArgs(await gitMetadata(imageDir("a"), repo))).toEqual({});
  });

  it("leaves out the git fields for an image that was never committed", async () => {
    git(["init", "-q", "-b", "main"]);
    await write("README.md", "x\n");
    await commitAll("init", "2024-01-01T00:00:00Z");
    await write("images/new/Dockerfile", "FROM scratch\n");
    expect(await gitMetadata(imageDir("new"), repo)).toEqual({});
  });
});

describe("normalizeSourceUrl", () => {
  it.each([
    ["git@github.com:me/images.git", "https://github.com/me/images"],
    ["github.com:me/images", "https://github.com/me/images"],
    ["ssh://git@git.example.com:2222/me/images.git", "https://git.example.com/me/images"],
    ["https://user:token@git.example.com/me/images.git", "https://git.example.com/me/images"],
    ["http://git.lan:3000/me/images/", "http://git.lan:3000/me/images"],
    ["git://git.example.com/images.git", "https://git.example.com/images"],
    ["/srv/git/images.git", ""],
    ["file:///srv/git/images.git", ""],
    ["../images", ""],
    ["", ""],
  ])("%s -> %s", (url, expected) => {
    expect(normalizeSourceUrl(url)).toBe(expected);
  });
});

describe("licenseFromText", () => {
  it.each([
    ["SPDX-License-Identifier: MPL-2.0\n...", "MPL-2.0"],
    ["  GNU GENERAL PUBLIC LICENSE\n   Version 3, 29 June 2007\n ... GNU Lesser General Public License ...", "GPL-3.0-only"],
    ["GNU GENERAL PUBLIC LICENSE\nVersion 2, June 1991", "GPL-2.0-only"],
    ["GNU LESSER GENERAL PUBLIC LICENSE\nVersion 2.1, February 1999", "LGPL-2.1-only"],
    ["GNU AFFERO GENERAL PUBLIC LICENSE\nVersion 3, 19 November 2007", "AGPL-3.0-only"],
    ["Apache License\nVersion 2.0, January 2004", "Apache-2.0"],
    ["MIT License\n\nPermission is hereby granted, free of charge, to any person", "MIT"],
    ["Redistribution and use in source and binary forms ... Neither the name of", "BSD-3-Clause"],
    ["Redistribution and use in source and binary forms, with or without", "BSD-2-Clause"],
    ["Permission to use, copy, modify, and/or distribute this software for any purpose", "ISC"],
    ["All rights reserved.", undefined],
  ])("%#: %s", (text, expected) => {
    expect(licenseFromText(text)).toBe(expected);
  });
});

describe("labels and build args", () => {
  const meta = {
    created: "2024-01-02T01:04:05Z",
    revision: "abc123-dirty",
    version: "v1.0.0-dirty",
    source: "https://git.example.com/me/images",
    licenses: "Apache-2.0",
  };

  it("fills the OCI labels from git and the definition, the definition winning", () => {
    const def = definitionSchema.parse({
      name: "dns",
      category: "infrastructure",
      description: "CoreDNS",
      metadata: { authors: "me", url: "https://example.com", licenses: "MIT", vendor: "home" },
    });
    expect(metadataLabels(meta, def)).toEqual({
      "org.opencontainers.image.authors": "me",
      "org.opencontainers.image.created": "2024-01-02T01:04:05Z",
      "org.opencontainers.image.description": "CoreDNS",
      "org.opencontainers.image.licenses": "MIT",
      "org.opencontainers.image.revision": "abc123-dirty",
      "org.opencontainers.image.source": "https://git.example.com/me/images",
      "org.opencontainers.image.title": "dns",
      "org.opencontainers.image.url": "https://example.com",
      "org.opencontainers.image.vendor": "home",
      "org.opencontainers.image.version": "v1.0.0-dirty",
    });
    const bare = definitionSchema.parse({ name: "x", category: "base", description: "d", metadata: { title: "X", source: "https://s" } });
    expect(metadataLabels({}, bare)).toEqual({
      "org.opencontainers.image.description": "d",
      "org.opencontainers.image.source": "https://s",
      "org.opencontainers.image.title": "X",
    });
  });

  it("passes the git facts as build args", () => {
    expect(metadataBuildArgs(meta)).toEqual({
      BUILD_CREATED: "2024-01-02T01:04:05Z",
      BUILD_REVISION: "abc123-dirty",
      BUILD_SOURCE: "https://git.example.com/me/images",
      BUILD_VERSION: "v1.0.0-dirty",
    });
  });
});
