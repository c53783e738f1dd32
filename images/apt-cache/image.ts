import { defineImage } from "../../src/index.ts";

/** The proofs' upstream: a router (Caddy) fixture serving test/mirror as a Debian mirror would. */
const MIRROR = "http://service:3142/debian";
const POOL = "pool/main/k/kiln-proof";
/** A maintenance action of the report page (expiration), with curl's status code after the body. */
const EXPIRE = (...auth: string[]) => ["curl", "-sS", ...auth, "-w", " HTTP %{http_code}\\n", "http://service:3142/acng-report.html?doExpire=Start+Expiration&abortOnErrors=aOe"];
const REFUSED = { outputContains: ["Not Authorized", "HTTP 401"], outputExcludes: ["maintenance task progress"] };
/** The admin login of test/admin-login: a fixture credential (README.md "Proofs"). */
const ADMIN = "kiln:apt-cache-proof-password";

export default defineImage({
  name: "apt-cache",
  category: "tooling",
  description: "Caching proxy for Debian packages (apt-cacher-ng 3.7 from Debian): mirror URLs or HTTP proxy, cache in /data, configured by environment variables",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    // apt-cacher-ng (C++, Debian's build) rather than approx (OCaml): see README.md "Why apt-cacher-ng".
    // Locked on top of base-runtime; the Dockerfile unpacks the daemon and its libraries only, and bash's
    // loadable mkdir and ln (bash-builtins): the entrypoint makes the log folder in /tmp with them.
    debian: { suite: "bookworm", packages: ["apt-cacher-ng", "bash-builtins"], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/apt-cache"], tags: ["latest", "3.7-{snapshotDate}"] },
  metadata: { title: "kiln apt-cache", licenses: "BSD-4-Clause AND MIT AND LicenseRef-public-domain", documentation: "images/apt-cache/README.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        ports: [3142],
        volumes: ["/data"],
        healthcheck: true,
        // apt-cacher-ng has no Prometheus endpoint: its counters are in the HTML report page (README.md).
        sizeBudgetMB: 12,
        tests: [
          { name: "healthcheck usage", command: ["healthcheck", "--help"], outputContains: ["usage: healthcheck PORT"] },
          {
            name: "an upstream that is not a URL is refused",
            command: [],
            entrypoint: ["bash", "-c", "APT_CACHE_UPSTREAM='deb.debian.org/debian' exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["apt-cache: APT_CACHE_UPSTREAM: 'deb.debian.org/debian' is not an http:// or https:// URL"],
          },
          {
            name: "an admin login file that is not USER:PASSWORD is refused",
            command: [],
            entrypoint: ["bash", "-c", "printf 'kiln\\n' > /tmp/admin && APT_CACHE_ADMIN_FILE=/tmp/admin exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["apt-cache: APT_CACHE_ADMIN_FILE: the first line of /tmp/admin must be USER:PASSWORD (a password of 8 characters or more, no blanks or #)"],
          },
          {
            name: "credentials in the upstream proxy are refused",
            command: [],
            entrypoint: ["bash", "-c", "APT_CACHE_UPSTREAM_PROXY='http://me:secret@proxy:3128' exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["apt-cache: APT_CACHE_UPSTREAM_PROXY must not hold credentials (give them in a file: APT_CACHE_UPSTREAM_PROXY_FILE)"],
          },
          {
            name: "a privileged port is refused",
            command: [],
            entrypoint: ["bash", "-c", "APT_CACHE_PORT=80 exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["apt-cache: APT_CACHE_PORT must be an unprivileged port number (1025-65535), not '80'"],
          },
        ],
        probes: [
          { name: "report page", kind: "http", port: 3142, path: "/acng-report.html", status: 200, bodyContains: ["Transfer statistics", "Data fetched:"] },
          // Anything that is not a package archive's file is refused: the cache is no open proxy.
          { name: "not a package file", kind: "http", port: 3142, path: "/debian/index.html", status: 403 },
        ],
        clients: [
          {
            // No APT_CACHE_ADMIN_FILE: the statistics stay readable, the actions need a login nobody outside knows.
            name: "maintenance without an admin login",
            steps: [
              { name: "the statistics page is readable", command: ["curl", "-fsS", "http://service:3142/acng-report.html"], outputContains: ["Transfer statistics"] },
              { name: "a maintenance action from the network is refused", command: EXPIRE(), ...REFUSED },
              { name: "acngtool inside the container runs it", in: "service", command: ["bash", "-c", "acngtool maint -c /tmp/apt-cache && echo 'expiration ran'"], outputContains: ["expiration ran"] },
            ],
          },
          {
            name: "maintenance with an admin login file",
            env: { APT_CACHE_ADMIN_FILE: "/run/secrets/apt-cache-admin" },
            files: { "/run/secrets/apt-cache-admin": "test/admin-login" },
            steps: [
              { name: "without the login it is refused", command: EXPIRE(), ...REFUSED },
              { name: "a wrong password is refused", command: EXPIRE("-u", "kiln:not-the-password"), ...REFUSED },
              { name: "with the login the expiration runs", command: EXPIRE("-u", ADMIN), outputContains: ["maintenance task progress", "HTTP 200"] },
            ],
          },
          {
            name: "cache a mirror",
            env: { APT_CACHE_UPSTREAM: "http://upstream:8080/debian" },
            fixtures: {
              upstream: {
                image: "router:image",
                env: { ROUTER_CONFIG: "/config/Caddyfile" },
                files: { "/config/Caddyfile": "test/Caddyfile", "/srv": "test/mirror" },
                ready: { port: 8080, timeoutSeconds: 60 },
              },
            },
            steps: [
              {
                name: "a Release file through the mirror URL",
                command: ["curl", "-fsS", `${MIRROR}/dists/kiln/Release`],
                outputContains: ["Origin: kiln proof", "Codename: kiln"],
              },
              {
                name: "the same Release file through the HTTP proxy, as apt uses it",
                command: ["curl", "-fsS", "--proxy", "http://service:3142", "http://deb.debian.org/debian/dists/kiln/Release"],
                outputContains: ["Origin: kiln proof", "Codename: kiln"],
              },
              {
                name: "a package fetched twice, same bytes as upstream",
                mount: ["test"],
                command: ["bash", "/kiln/test/fetch-twice.sh", `${MIRROR}/${POOL}/kiln-proof_1.0_all.deb`, `/kiln/test/mirror/debian/${POOL}/kiln-proof_1.0_all.deb`],
                outputContains: ["twice the same sha256:"],
              },
              {
                name: "the report page counts more served than fetched",
                mount: ["test"],
                command: ["bash", "/kiln/test/served-from-cache.sh"],
                outputContains: ["served from the cache:"],
              },
              {
                name: "the package is stored in /data",
                volumes: ["/data"],
                command: ["bash", "-c", `test -s /data/debrep/${POOL}/kiln-proof_1.0_all.deb && echo stored`],
                outputContains: ["stored"],
              },
              { name: "the upstream goes away", in: "upstream", command: ["bash", "-c", "kill 1"] },
              {
                name: "a package never fetched is unavailable",
                // apt-cacher-ng answers 500 once the upstream's name no longer resolves, 503 while the
                // stopping container's name still resolves but nothing listens (seen under qemu): both
                // mean "not available", which is the proof; anything else (200, 404) fails it.
                command: ["bash", "-c", `code=$(curl -sS -o /dev/null -w '%{http_code}' ${MIRROR}/${POOL}/kiln-proof_2.0_all.deb); case $code in 500 | 503) echo "HTTP $code: unavailable" ;; *) echo "HTTP $code" ;; esac`],
                outputContains: ["unavailable"],
              },
              {
                name: "the cached package is still served",
                mount: ["test"],
                command: ["bash", "/kiln/test/fetch-twice.sh", `${MIRROR}/${POOL}/kiln-proof_1.0_all.deb`, `/kiln/test/mirror/debian/${POOL}/kiln-proof_1.0_all.deb`],
                outputContains: ["twice the same sha256:"],
              },
              {
                name: "after a restart on the same /data, still served without the upstream",
                restart: true,
                mount: ["test"],
                command: ["bash", "/kiln/test/fetch-twice.sh", `${MIRROR}/${POOL}/kiln-proof_1.0_all.deb`, `/kiln/test/mirror/debian/${POOL}/kiln-proof_1.0_all.deb`],
                outputContains: ["twice the same sha256:"],
              },
            ],
          },
        ],
      },
    },
  },
});
