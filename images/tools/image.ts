import { defineImage } from "../../src/index.ts";

export default defineImage({
  name: "tools",
  category: "base",
  description: "The family's client and debugging image: curl, kdig, openssl, jq, smbclient, ipptool, psql, mariadb, snapclient, skopeo, avahi-browse, pulseaudio (RAOP sender), sox, lego",
  context: ".",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    debian: {
      suite: "bookworm",
      // mariadb-client-core: the `mariadb` client without the perl scripts of mariadb-client.
      // usr-is-merged: base:runtime is merged-/usr already; it keeps apt from choosing usrmerge
      // (a converter with perl) for init-system-helpers' "usrmerge | usr-is-merged".
      // avahi-utils (with avahi-daemon and dbus-daemon, which avahi-browse talks to), pulseaudio with
      // module-raop-sink, pactl/paplay and sox: the airplay proofs; bash-builtins: their scripts'
      // mkdir (there are no coreutils). lego: the pki image's ACME client.
      packages: [
        "curl", "knot-dnsutils", "openssl", "jq", "smbclient", "cups-ipp-utils", "postgresql-client-15", "mariadb-client-core", "snapclient", "skopeo", "usr-is-merged",
        "avahi-utils", "pulseaudio", "pulseaudio-module-raop", "pulseaudio-utils", "sox", "bash-builtins", "lego",
      ],
      onTopOf: "base-runtime",
    },
  },
  outputs: { names: ["kiln/tools"], tags: ["latest", "{snapshotDate}"] },
  metadata: { title: "kiln tools", licenses: "Apache-2.0", documentation: "images/tools/README.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        // A client: it serves nothing, so there is nothing for a healthcheck to watch.
        healthcheck: false,
        // 97 MB amd64, 94 MB arm64 compressed (2026-12-02): most of it is what Debian's skopeo
        // pulls in (containers-common, gnupg, iptables, perl), and samba's client libraries.
        // 155 MB amd64 (2026-12-07) with the audio and mDNS clients and lego: pulseaudio depends
        // on libasound2-plugins, which brings FFmpeg's libraries and their codecs (about 45 MB)
        // that no proof uses; leaving them out with deb-install --without is the next step.
        sizeBudgetMB: 160,
        tests: [
          { name: "curl speaks TLS", command: ["curl", "--version"], outputContains: ["curl 7.88", "OpenSSL/3"] },
          { name: "kdig", command: ["kdig", "--version"], outputContains: ["Knot DNS"] },
          { name: "openssl", command: ["openssl", "version"], outputContains: ["OpenSSL 3.0"] },
          { name: "jq", command: ["bash", "-c", "echo '{\"a\":[1,2]}' | jq -c '.a|add'"], outputContains: ["3"] },
          { name: "smbclient", command: ["smbclient", "--version"], outputContains: ["Version 4."] },
          { name: "ipptool", command: ["ipptool", "-h"], exitCode: 1, outputContains: ["Usage: ipptool"] },
          { name: "psql", command: ["psql", "--version"], outputContains: ["psql (PostgreSQL) 15."] },
          { name: "mariadb", command: ["mariadb", "--version"], outputContains: ["MariaDB"] },
          { name: "snapclient", command: ["snapclient", "--version"], outputContains: ["snapclient v0.26."] },
          { name: "skopeo", command: ["skopeo", "--version"], outputContains: ["skopeo version 1."] },
          { name: "avahi-browse", command: ["avahi-browse", "--version"], outputContains: ["avahi-browse 0.8"] },
          { name: "pulseaudio", command: ["pulseaudio", "--version"], outputContains: ["pulseaudio 16.1"] },
          { name: "module-raop-sink", command: ["pulseaudio", "--dump-modules"], outputContains: ["module-raop-sink"] },
          { name: "pactl", command: ["pactl", "--version"], outputContains: ["pactl 16.1"] },
          { name: "sox", command: ["sox", "--version"], outputContains: ["SoX v14.4.2"] },
          // Debian's build stamps no version ("lego version dev"): its help names the client.
          { name: "lego", command: ["lego", "--help"], outputContains: ["Let's Encrypt client written in Go"] },
        ],
      },
    },
  },
});
