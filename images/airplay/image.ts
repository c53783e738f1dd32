import { defineImage } from "../../src/index.ts";

/** The speaker's name in the proofs (avahi-browse -p escapes a space as \032, the raop name's "@" as \064). */
const NAME = "kiln-proof-speaker";
/** Libraries shairport-sync is compiled against, for the target (multiarch): Dockerfile. */
const BUILD_LIBRARIES = [
  "libpopt-dev", "libconfig-dev", "libssl-dev", "libsoxr-dev", "libavahi-client-dev", "libasound2-dev",
  "libplist-dev", "libsodium-dev", "libgcrypt20-dev", "uuid-dev", "libavcodec-dev", "libavformat-dev", "libavutil-dev", "libswresample-dev",
];
/** Tools the build runs (taken from the build platform's list). */
const BUILD_TOOLS = ["autoconf", "automake", "xxd", "libplist-utils"];
/** What the image ships beside the libraries the two programs link (needed-debs adds those). */
const RUNTIME = ["avahi-daemon", "dbus-daemon", "libasound2-data", "bash-builtins", "usr-is-merged"];

/** A PulseAudio RAOP sender in the tools image plays a 1 kHz tone to the speaker (test/play.sh). */
const play = (seconds: number) => ["bash", "/kiln/test/play.sh", "service", "7000", String(seconds)];
/** What the speaker wrote: non-silent, dominant frequency (test/analyse.sh). */
const ANALYSE = ["bash", "/kiln/test/analyse.sh", "/audio/airplay.pcm"];

export default defineImage({
  name: "airplay",
  category: "home-and-media",
  description: "AirPlay 2 speaker (shairport-sync 5.2.1 with nqptp 1.2.4, compiled here) as uid 2000: mDNS by avahi on a private D-Bus, audio to a file, pipe, stdout or ALSA",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    // Sites without GitHub reach them through settings git.insteadOf (docs/settings.md).
    git: {
      "shairport-sync": { url: "https://github.com/mikebrady/shairport-sync", ref: "5.2.1" },
      nqptp: { url: "https://github.com/mikebrady/nqptp", ref: "1.2.4" },
    },
    debian: { suite: "bookworm", packages: [...RUNTIME, ...BUILD_TOOLS, ...BUILD_LIBRARIES], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/airplay"], tags: ["latest", "5.2.1-{snapshotDate}"] },
  metadata: { title: "kiln airplay", licenses: "MIT AND GPL-2.0-or-later", documentation: "images/airplay/README.md", source: "https://github.com/mikebrady/shairport-sync" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        // TCP (probed by kiln test); the UDP ports are in README.md.
        ports: [7000],
        volumes: ["/data", "/audio"],
        healthcheck: true,
        env: { AIRPLAY_NAME: NAME },
        // nqptp binds UDP 319 and 320 (PTP) as uid 2000 without a capability: the container's own
        // network namespace lets unprivileged processes bind from 319 up (README.md, "Security").
        privileges: { sysctls: { "net.ipv4.ip_unprivileged_port_start": "319" }, reason: "nqptp binds the PTP ports 319 and 320 without a capability" },
        // shairport-sync has no metrics endpoint (README.md, "Metrics").
        sizeBudgetMB: 90,
        tests: [
          { name: "shairport-sync version", command: [], entrypoint: ["shairport-sync", "-V"], outputContains: ["5.2.1-AirPlay2-smi10-OpenSSL-Avahi-ALSA-stdout-pipe-soxr-metadata"] },
          { name: "nqptp version", command: [], entrypoint: ["nqptp", "-V"], outputContains: ["Version: 1.2.4"] },
          {
            name: "an unknown output is refused",
            command: [],
            entrypoint: ["bash", "-c", "AIRPLAY_OUTPUT=speaker exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["airplay: AIRPLAY_OUTPUT must be file, pipe, stdout or alsa, not 'speaker'"],
          },
          {
            name: "a missing password file is refused",
            command: [],
            entrypoint: ["bash", "-c", "AIRPLAY_PASSWORD_FILE=/run/secrets/none exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["airplay: AIRPLAY_PASSWORD_FILE /run/secrets/none is not a readable file"],
          },
        ],
        clients: [
          {
            name: "a classic AirPlay sender plays",
            // mDNS is multicast (224.0.0.251): an internal Docker network's isolation rule drops
            // every destination outside its subnet, multicast included, so browsing needs a plain one.
            egress: true,
            steps: [
              {
                name: "avahi-browse finds the _raop._tcp and _airplay._tcp records by name",
                mount: ["test"],
                command: ["bash", "/kiln/test/browse.sh"],
                timeoutSeconds: 90,
                outputContains: [`;IPv4;${NAME};AirPlay Remote Video;local;`, `\\064${NAME};AirTunes Remote Audio;local;`, '"features=0x', '"model=ShairportSync"'],
              },
              {
                name: "RTSP OPTIONS with an Apple-Challenge gets 200 and an Apple-Response",
                mount: ["test"],
                command: ["bash", "/kiln/test/rtsp-options.sh", "service", "7000"],
                outputContains: ["RTSP/1.0 200 OK", "Apple-Response: "],
              },
              {
                name: "nqptp holds UDP 319 and 320 as uid 2000 with no capability",
                in: "service",
                command: ["bash", "-c", 'for p in /proc/[0-9]*; do read -r c < "$p/comm"; [ "$c" = nqptp ] && while read -r k v _; do case $k in Uid:|CapEff:) echo "$k $v";; esac; done < "$p/status"; done; while read -r _ l _ _ _ _ _ u _; do case $l in *:013F|*:0140) echo "udp $l uid $u";; esac; done < /proc/net/udp'],
                outputContains: ["Uid: 2000", "CapEff: 0000000000000000", ":013F uid 2000", ":0140 uid 2000"],
              },
              {
                name: "PulseAudio's RAOP sink plays a 1 kHz tone and the speaker writes it",
                mount: ["test"],
                volumes: ["/audio"],
                command: ["bash", "-c", `${play(6).join(" ")} && ${ANALYSE.join(" ")}`],
                outputContains: ["played", "audio: non-silent", "dominant frequency 1000 Hz"],
                timeoutSeconds: 180,
              },
            ],
          },
          {
            name: "a password is asked for",
            env: { AIRPLAY_PASSWORD_FILE: "/run/secrets/airplay-password" },
            files: { "/run/secrets/airplay-password": "test/password" },
            steps: [
              {
                name: "a classic AirPlay OPTIONS without the password gets 401 and a Digest challenge",
                mount: ["test"],
                command: ["bash", "/kiln/test/rtsp-options.sh", "service", "7000"],
                outputContains: ["RTSP/1.0 401 Unauthorized", 'WWW-Authenticate: Digest realm="raop"'],
              },
              {
                name: "a sender without the password is refused, nothing is written",
                mount: ["test"],
                volumes: ["/audio"],
                command: ["bash", "-c", `${play(4).join(" ")}; ${ANALYSE.join(" ")}`],
                outputContains: ["audio: nothing written"],
                outputExcludes: ["audio: non-silent"],
                timeoutSeconds: 180,
              },
            ],
          },
        ],
      },
    },
  },
});
