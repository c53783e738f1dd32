import { defineImage } from "../../src/index.ts";

/** ipptool in test mode, verbose: each test's PASS/FAIL and the attributes it got. */
const IPPTOOL = ["ipptool", "-tv"];
/** The image's queue (CUPS_QUEUE's default). */
const QUEUE = "ipp://service:6310/printers/pdf";

export default defineImage({
  name: "cups",
  category: "infrastructure",
  description: "CUPS 2.4 print server from Debian, non-root, with a PDF queue that prints to files in /data",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    debian: { suite: "bookworm", packages: ["cups-daemon", "cups-server-common", "cups-core-drivers", "cups-filters-core-drivers", "bash-builtins"], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/cups"], tags: ["latest", "2.4-{snapshotDate}"] },
  metadata: { title: "kiln cups", licenses: "Apache-2.0", documentation: "images/cups/README.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        ports: [6310],
        volumes: ["/data"],
        healthcheck: true,
        // CUPS has no Prometheus endpoint (README.md). 13.7 MB (amd64) measured.
        sizeBudgetMB: 18,
        tests: [
          { name: "cupsd usage", command: ["cupsd", "-h"], outputContains: ["Usage: cupsd [options]"] },
          {
            name: "bad queue state refused",
            command: ["bash", "-c", "CUPS_QUEUE_STATE=paused exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["cups: CUPS_QUEUE_STATE must be idle, stopped or rejecting, not 'paused'"],
          },
        ],
        probes: [{ name: "web interface", kind: "http", port: 6310, path: "/", status: 200, bodyContains: ["CUPS 2.4"] }],
        clients: [
          {
            name: "print to PDF",
            steps: [
              { name: "the web interface answers", command: ["curl", "-fsS", "http://service:6310/"], outputContains: ["<title>Home - CUPS 2.4", "<h1>OpenPrinting CUPS 2.4"] },
              {
                name: "ipptool prints a PDF and the job completes",
                mount: ["test"],
                command: [...IPPTOOL, "-f", "/kiln/test/page.pdf", QUEUE, "print-job-and-wait.test"],
                outputContains: ["Print file using Print-Job", "job-state (enum) = completed", "Summary: 2 tests, 2 passed"],
              },
              {
                name: "the output in /data is a PDF written by pdftopdf",
                mount: ["test"],
                volumes: ["/data"],
                command: ["bash", "/kiln/test/output-is-pdf.sh", "/data/output/pdf.pdf"],
                outputContains: ["PDF 1.4 from pdftopdf, 1 page"],
              },
              {
                name: "after a restart on the same /data the job is in the history",
                restart: true,
                command: [...IPPTOOL, QUEUE, "get-completed-jobs.test"],
                outputContains: ["job-id (integer) = 1", "job-state (enum) = completed"],
              },
            ],
          },
          {
            name: "stopped queue",
            env: { CUPS_QUEUE_STATE: "stopped" },
            steps: [
              { name: "the queue reports stopped", command: [...IPPTOOL, QUEUE, "get-printer-attributes.test"], outputContains: ["printer-state (enum) = stopped", "printer-is-accepting-jobs (boolean) = true"] },
              {
                name: "a job is accepted and held",
                mount: ["test"],
                command: ["bash", "/kiln/test/held.sh", QUEUE],
                outputContains: ["job 1 held: pending"],
              },
              { name: "nothing was written to /data", volumes: ["/data"], command: ["bash", "-c", "[ ! -e /data/output/pdf.pdf ] && echo 'no output'"], outputContains: ["no output"] },
            ],
          },
        ],
      },
    },
  },
});
