import { defineImage } from "../../src/index.ts";

/** The proof's speaker: snapclient (tools image) with this host ID, playing into the file player, to nothing (no sound card). */
const SPEAKER = "kiln-proof-speaker";
/** A JSON-RPC request over HTTP (port 1780), the result filtered with jq. */
const rpcHttp = (body: string, filter: string) => ["bash", "/kiln/test/rpc.sh", "http", body, filter];
const CLIENTS = '.result.server.groups[].clients[] | "client \\(.id) connected=\\(.connected) name=\\(.config.name)"';
/** The streams that are playing (a source that sends nothing is idle). */
const PLAYING = '.result.server.streams[] | select(.status == "playing") | "stream \\(.id) \\(.uri.scheme) \\(.status)"';
const SPEAKER_FIXTURE = {
  entrypoint: ["snapclient"],
  command: ["--host", "service", "--port", "1704", "--hostID", SPEAKER, "--player", "file:filename=null", "--logsink", "stderr"],
  start: "after-service" as const,
};
const GET_STATUS = '{"id":1,"jsonrpc":"2.0","method":"Server.GetStatus"}';

export default defineImage({
  name: "snapcast",
  category: "experimental",
  description: "Multi-room audio server (snapserver 0.26 from Debian) as uid 2000: a pipe or TCP source, JSON-RPC and HTTP control",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    debian: { suite: "bookworm", packages: ["snapserver", "bash-builtins", "usr-is-merged"], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/snapcast"], tags: ["latest", "0.26-{snapshotDate}"] },
  metadata: { title: "kiln snapcast", licenses: "GPL-3.0-or-later", documentation: "images/snapcast/README.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        ports: [1704, 1705, 1780],
        volumes: ["/data", "/audio"],
        healthcheck: true,
        // snapserver has no Prometheus endpoint (README.md "Metrics").
        sizeBudgetMB: 15,
        tests: [
          { name: "snapserver version", command: ["snapserver", "--version"], outputContains: ["snapserver v0.26."] },
          {
            name: "an unknown source is refused",
            command: [],
            entrypoint: ["bash", "-c", "SNAPCAST_SOURCE=alsa exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["snapcast: SNAPCAST_SOURCE must be pipe or tcp, not 'alsa'"],
          },
          {
            name: "a privileged source port is refused",
            command: [],
            entrypoint: ["bash", "-c", "SNAPCAST_SOURCE=tcp SNAPCAST_SOURCE_PORT=80 exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["snapcast: SNAPCAST_SOURCE_PORT must be a port number above 1023 (snapserver runs without privileges), not '80'"],
          },
        ],
        probes: [{ name: "status page", kind: "http", port: 1780, path: "/", status: 200, bodyContains: ["Snapcast"] }],
        clients: [
          {
            name: "a speaker joins",
            fixtures: { speaker: SPEAKER_FIXTURE },
            steps: [
              {
                name: "Server.GetStatus over HTTP lists the connected snapclient",
                mount: ["test"],
                command: rpcHttp(GET_STATUS, CLIENTS),
                outputContains: [`client ${SPEAKER} connected=true`],
              },
              {
                name: "the stream is listed, playing from the pipe",
                mount: ["test"],
                command: rpcHttp(GET_STATUS, '.result.server.streams[] | "stream \\(.id) \\(.uri.scheme)"'),
                outputContains: ["stream default pipe"],
              },
              {
                name: "Server.GetStatus over the TCP control port lists it too",
                mount: ["test"],
                command: ["bash", "/kiln/test/rpc.sh", "tcp", GET_STATUS, CLIENTS],
                outputContains: [`client ${SPEAKER} connected=true`],
              },
              {
                name: "Client.SetName names it",
                mount: ["test"],
                command: rpcHttp(`{"id":2,"jsonrpc":"2.0","method":"Client.SetName","params":{"id":"${SPEAKER}","name":"kitchen"}}`, '"name=\\(.result.name)"'),
                outputContains: ["name=kitchen"],
              },
              {
                name: "after a restart on the same /data the name is kept",
                restart: true,
                mount: ["test"],
                command: rpcHttp(GET_STATUS, CLIENTS),
                outputContains: [`client ${SPEAKER} connected=`, "name=kitchen"],
              },
            ],
          },
          {
            name: "a player sends to the tcp source",
            env: { SNAPCAST_SOURCE: "tcp" },
            fixtures: { speaker: SPEAKER_FIXTURE },
            steps: [
              {
                // The player keeps sending while the status is asked for: a source that stops turns idle.
                name: "while PCM arrives over TCP, Server.GetStatus shows the stream playing",
                mount: ["test"],
                command: ["bash", "-c", 'bash /kiln/test/play.sh 30 & exec bash /kiln/test/rpc.sh http "$0" "$1"', GET_STATUS, PLAYING],
                outputContains: ["stream default tcp playing"],
              },
              { name: "the speaker is listed on it", mount: ["test"], command: rpcHttp(GET_STATUS, CLIENTS), outputContains: [`client ${SPEAKER} connected=true`] },
            ],
          },
        ],
      },
    },
  },
});
