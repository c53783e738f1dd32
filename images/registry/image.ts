import { defineImage } from "../../src/index.ts";

/** Where the proofs push: the image under test itself, from kiln's store (both platforms). */
const STORED = "oci:/kiln/store:registry:image";
const PUSHED = "docker://service:5000/kiln/registry:proof";
/** The test user of test/htpasswd: a fixture credential (test/make-fixtures.sh, README.md "Proofs"). */
const CREDS = "kiln:kiln-proof-password";
const CA = "/kiln/test/ca";
/** The start-up warning of a registry that takes pushes from anyone (README.md "Security"). */
const OPEN_WARNING = "registry: WARNING: no authentication: anyone who reaches port 5000 can push images and overwrite tags";

export default defineImage({
  name: "registry",
  category: "tooling",
  description: "Container image registry (docker-registry 2.8 from Debian), storage in /data, configured by environment variables",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    // Distribution's Go modules cannot be fetched here: the registry is Debian's binary package.
    // Locked on top of base-runtime; the Dockerfile unpacks docker-registry alone (see there why).
    debian: { suite: "bookworm", packages: ["docker-registry"], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/registry"], tags: ["latest", "2.8-{snapshotDate}"] },
  metadata: { title: "kiln registry", licenses: "Apache-2.0", documentation: "images/registry/README.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        ports: [5000, 5001],
        volumes: ["/data"],
        healthcheck: true,
        metrics: { port: 5001, path: "/metrics" },
        sizeBudgetMB: 20,
        tests: [
          { name: "registry version", command: ["docker-registry", "--version"], outputContains: ["github.com/docker/distribution 2.8."] },
          { name: "healthcheck usage", command: ["healthcheck", "--help"], outputContains: ["usage: healthcheck PORT"] },
          {
            name: "refuses an htpasswd entry that is not bcrypt",
            command: [],
            entrypoint: ["bash", "-c", "printf 'kiln:{SHA}x\\n' > /tmp/htpasswd && REGISTRY_HTPASSWD=/tmp/htpasswd exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["registry: REGISTRY_HTPASSWD: line 1 of /tmp/htpasswd is not USER:BCRYPT-HASH (make entries with htpasswd -B)"],
          },
          {
            name: "a listen address that is not an IP address is refused",
            command: [],
            entrypoint: ["bash", "-c", "REGISTRY_LISTEN=all exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["registry: REGISTRY_LISTEN must be an IP address (127.0.0.1, ::1, 10.0.0.5), not 'all'"],
          },
        ],
        probes: [
          { name: "api", kind: "http", port: 5000, path: "/v2/", status: 200, bodyContains: ["{}"] },
          { name: "health", kind: "http", port: 5001, path: "/debug/health", status: 200, bodyContains: ["{}"] },
          { name: "metrics", kind: "metrics", port: 5001, path: "/metrics", status: 200, bodyContains: ["registry_http_in_flight_requests"] },
        ],
        clients: [
          {
            name: "push and pull",
            steps: [
              {
                name: "push from the store with digests preserved",
                mount: ["store"],
                command: ["skopeo", "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", STORED, PUSHED],
                outputContains: ["Writing manifest list to image destination"],
              },
              {
                name: "the registry serves the stored digest",
                mount: ["store", "test"],
                command: ["bash", "/kiln/test/same-digest.sh", "--tls-verify=false", STORED, PUSHED],
                outputContains: ["same digest: sha256:"],
              },
              {
                name: "pull back, same digest",
                mount: ["store", "test"],
                command: ["bash", "/kiln/test/pull-back.sh", "--src-tls-verify=false", PUSHED, STORED],
                outputContains: ["same digest: sha256:"],
              },
              {
                name: "metrics count the pushed manifests",
                command: ["curl", "-fsS", "http://service:5001/metrics"],
                outputContains: ['registry_http_requests_total{code="201",handler="manifest",method="put"}', "# TYPE registry_storage_action_seconds histogram"],
              },
              {
                name: "after a restart on the same /data the image is still there",
                restart: true,
                mount: ["store", "test"],
                command: ["bash", "/kiln/test/same-digest.sh", "--tls-verify=false", STORED, PUSHED],
                outputContains: ["same digest: sha256:"],
              },
              {
                name: "the catalog lists it",
                command: ["curl", "-fsS", "http://service:5000/v2/_catalog"],
                outputContains: ['{"repositories":["kiln/registry"]}'],
              },
              { name: "the log warns that anyone can push", serviceLog: true, outputContains: [OPEN_WARNING, "REGISTRY_HTPASSWD is empty, the API listens on every address"] },
            ],
          },
          {
            name: "htpasswd auth over TLS",
            env: { REGISTRY_HTPASSWD: "/run/secrets/htpasswd", REGISTRY_TLS: "on" },
            files: { "/run/secrets/htpasswd": "test/htpasswd", "/certs": "test/tls" },
            steps: [
              { name: "no warning with authentication on", serviceLog: true, outputContains: ["listening on"], outputExcludes: ["WARNING"] },
              {
                name: "a client without the CA refuses the certificate",
                command: ["curl", "-sS", "https://service:5000/v2/"],
                exitCode: 60,
                outputContains: ["SSL certificate problem: unable to get local issuer certificate"],
              },
              {
                name: "the API answers 401 without credentials",
                mount: ["test"],
                command: ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %header{www-authenticate}\\n", "--cacert", `${CA}/ca.crt`, "https://service:5000/v2/"],
                outputContains: ['401 Basic realm="kiln registry"'],
              },
              {
                name: "an unauthenticated push is refused",
                mount: ["store", "test"],
                command: ["skopeo", "copy", "--all", "--preserve-digests", "--dest-cert-dir", CA, STORED, PUSHED],
                exitCode: 1,
                outputContains: ["authentication required"],
              },
              {
                name: "a wrong password is refused",
                mount: ["store", "test"],
                command: ["skopeo", "copy", "--all", "--preserve-digests", "--dest-cert-dir", CA, "--dest-creds", "kiln:not-the-password", STORED, PUSHED],
                exitCode: 1,
                outputContains: ["authentication required"],
              },
              {
                name: "an authenticated push works",
                mount: ["store", "test"],
                command: ["skopeo", "copy", "--all", "--preserve-digests", "--dest-cert-dir", CA, "--dest-creds", CREDS, STORED, PUSHED],
                outputContains: ["Writing manifest list to image destination"],
              },
              {
                name: "pull back over verified TLS, same digest",
                mount: ["store", "test"],
                command: ["bash", "/kiln/test/pull-back.sh", `--src-cert-dir=${CA}`, `--src-creds=${CREDS}`, PUSHED, STORED],
                outputContains: ["same digest: sha256:"],
              },
            ],
          },
          {
            name: "API on loopback only",
            env: { REGISTRY_LISTEN: "127.0.0.1" },
            steps: [
              { name: "no warning on loopback", serviceLog: true, outputContains: ["listening on 127.0.0.1:5000"], outputExcludes: ["WARNING"] },
              { name: "the container's address does not answer", command: ["curl", "-sS", "http://service:5000/v2/"], exitCode: 7, outputContains: ["Failed to connect to service port 5000"] },
            ],
          },
        ],
      },
    },
  },
});
