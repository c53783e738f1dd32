import { defineImage } from "../../src/index.ts";

/** The proofs' test users (test/samba-users: fixture credentials, not secrets). bob's password holds a colon. */
const ALICE = "alice%alice-proof-password";
const BOB = "bob%bob:proof password";
/** sha256 of the 1 MiB payload test/smb.sh writes (AES-CTR under a fixed key: the same in every container). */
const PAYLOAD_SHA256 = "3b8a906fe43aadac2528408bea137030f240c2aa97ef03786d4d7ae5f981c6fe";
const USERS = { "/run/secrets/samba-users": "test/samba-users" };
const smbclient = (share: string, creds: string, command: string) => ["smbclient", `//service/${share}`, "--port", "4450", "--user", creds, "--command", command];

export default defineImage({
  name: "samba",
  category: "infrastructure",
  description: "SMB file server (Samba 4.17 smbd from Debian) as uid 2000: shares and users from env and a secret file, optional Time Machine share",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    // samba: smbd, pdbedit and the RPC helpers; samba-vfs-modules: fruit, catia and streams_xattr
    // (Time Machine); libnss-wrapper: the samba users' unix accounts from a file in /tmp (see the Dockerfile).
    // usr-is-merged: base:runtime is merged-/usr already; it keeps apt from choosing usrmerge (perl).
    debian: { suite: "bookworm", packages: ["samba", "samba-vfs-modules", "libnss-wrapper", "usr-is-merged"], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/samba"], tags: ["latest", "4.17-{snapshotDate}"] },
  metadata: { title: "kiln samba", licenses: "GPL-3.0-or-later", documentation: "images/samba/README.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        ports: [4450],
        volumes: ["/data"],
        healthcheck: true,
        // 34.8 MB amd64, 33.6 MB arm64 compressed (2026-12-05): mostly samba-libs, libicu72 (its data alone 30 MB
        // unpacked) and Kerberos/GnuTLS, which smbd links.
        sizeBudgetMB: 40,
        tests: [
          { name: "smbd version", command: ["smbd", "--version"], outputContains: ["Version 4.17."] },
          {
            name: "a users file named but missing: one line, exit 64",
            command: [],
            entrypoint: ["bash", "-c", "SAMBA_USERS_FILE=/run/secrets/users exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["samba: SAMBA_USERS_FILE=/run/secrets/users is not a readable file (mount it read-only, e.g. -v ./samba-users:/run/secrets/users:ro)"],
          },
          {
            name: "a privileged port is refused",
            command: [],
            entrypoint: ["bash", "-c", "SAMBA_PORT=445 exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["samba: SAMBA_PORT must be above 1023 (smbd runs without privileges), not '445': map 445 to it on the host"],
          },
          {
            name: "a users line without a password is refused",
            command: [],
            entrypoint: ["bash", "-c", "printf 'alice\\n' > /tmp/users && SAMBA_USERS_FILE=/tmp/users exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["samba: SAMBA_USERS_FILE: line 1 of /tmp/users is not user:password"],
          },
        ],
        clients: [
          {
            name: "file service",
            // share: read-write for every user; archive: read-only; private: alice only.
            env: { SAMBA_SHARES: "share archive:ro private:rw:alice" },
            files: USERS,
            steps: [
              { name: "the shares are listed", command: ["smbclient", "--list", "//service", "--port", "4450", "--user", ALICE], outputContains: ["share", "archive", "private", "Disk"] },
              {
                name: "put a file",
                mount: ["test"],
                command: ["bash", "/kiln/test/smb.sh", "put", ALICE, "share"],
                outputContains: ["putting file payload.bin as \\payload.bin", `put sha256: ${PAYLOAD_SHA256}`],
              },
              { name: "the listing shows it", command: smbclient("share", BOB, "ls"), outputContains: ["payload.bin", "1048576"] },
              { name: "get it back, byte-identical", mount: ["test"], command: ["bash", "/kiln/test/smb.sh", "get", BOB, "share"], outputContains: [`same sha256: ${PAYLOAD_SHA256}`] },
              {
                name: "a wrong password is refused",
                command: smbclient("share", "alice%not-the-password", "ls"),
                exitCode: 1,
                outputContains: ["NT_STATUS_LOGON_FAILURE"],
                outputExcludes: ["payload.bin"],
              },
              { name: "an unknown user is refused", command: smbclient("share", "mallory%alice-proof-password", "ls"), exitCode: 1, outputContains: ["NT_STATUS_LOGON_FAILURE"] },
              {
                name: "a read-only share refuses writes",
                mount: ["test"],
                command: ["bash", "/kiln/test/smb.sh", "put", ALICE, "archive"],
                exitCode: 1,
                outputContains: ["NT_STATUS_ACCESS_DENIED"],
              },
              { name: "a share of alice's refuses bob", command: smbclient("private", BOB, "ls"), exitCode: 1, outputContains: ["NT_STATUS_ACCESS_DENIED"] },
              { name: "the file is on /data, owned by uid 2000", volumes: ["/data"], command: ["bash", "-c", "[ -O /data/share/payload.bin ] && [ -s /data/share/payload.bin ] && echo 'owned by 2000'"], outputContains: ["owned by 2000"] },
              {
                name: "after a restart on the same /data the file is there",
                restart: true,
                mount: ["test"],
                command: ["bash", "/kiln/test/smb.sh", "get", ALICE, "share"],
                outputContains: [`same sha256: ${PAYLOAD_SHA256}`],
              },
            ],
          },
          {
            name: "time machine",
            env: { SAMBA_TIMEMACHINE: "on", SAMBA_TIMEMACHINE_USERS: "alice", SAMBA_TIMEMACHINE_MAX_SIZE: "500G" },
            files: USERS,
            steps: [
              {
                name: "the share is a Time Machine destination",
                in: "service",
                command: ["testparm", "-s", "/tmp/samba/smb.conf"],
                outputContains: ["[timemachine]", "fruit:time machine = yes", "fruit:time machine max size = 500G", "vfs objects = catia fruit streams_xattr"],
              },
              { name: "a backup file goes in", mount: ["test"], command: ["bash", "/kiln/test/smb.sh", "put", ALICE, "timemachine"], outputContains: [`put sha256: ${PAYLOAD_SHA256}`] },
              {
                name: "Apple metadata streams are kept",
                mount: ["test"],
                command: ["bash", "/kiln/test/stream.sh", ALICE, "timemachine"],
                outputContains: ["stream: [:AFP_AfpInfo:$DATA]"],
              },
              { name: "bob may not back up there", command: smbclient("timemachine", BOB, "ls"), exitCode: 1, outputContains: ["NT_STATUS_ACCESS_DENIED"] },
            ],
          },
        ],
      },
    },
  },
});
