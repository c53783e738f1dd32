/*
 * healthcheck: an HTTP GET to 127.0.0.1:PORT/PATH for container HEALTHCHECKs
 * in images that ship no curl or wget. Exits 0 on a 2xx or 3xx answer, 1 on
 * any other answer or failure (with one line on stderr saying why), 2 on bad usage.
 *
 *   healthcheck PORT [PATH] [HOST]
 *   HEALTHCHECK_PORT, HEALTHCHECK_PATH, HEALTHCHECK_HOST, HEALTHCHECK_TIMEOUT (seconds)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define VERSION "1.0.0"

static const char *arg_or_env(int argc, char **argv, int i, const char *env, const char *fallback) {
  if (argc > i) return argv[i];
  const char *v = getenv(env);
  return (v && *v) ? v : fallback;
}

static int usage(FILE *out, int code) {
  fprintf(out,
          "usage: healthcheck PORT [PATH] [HOST]\n"
          "  GET http://HOST:PORT/PATH (HOST defaults to 127.0.0.1, PATH to /);\n"
          "  exit 0 on 2xx/3xx, 1 otherwise.\n"
          "  env: HEALTHCHECK_PORT HEALTHCHECK_PATH HEALTHCHECK_HOST HEALTHCHECK_TIMEOUT (seconds, default 5)\n");
  return code;
}

static int fail(const char *what, const char *detail) {
  fprintf(stderr, "healthcheck: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  return 1;
}

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) return usage(stdout, 0);
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("healthcheck %s\n", VERSION);
    return 0;
  }
  if (argc > 4) return usage(stderr, 2);

  const char *port_s = arg_or_env(argc, argv, 1, "HEALTHCHECK_PORT", NULL);
  const char *path = arg_or_env(argc, argv, 2, "HEALTHCHECK_PATH", "/");
  const char *host = arg_or_env(argc, argv, 3, "HEALTHCHECK_HOST", "127.0.0.1");
  const char *timeout_s = getenv("HEALTHCHECK_TIMEOUT");
  if (!port_s) return usage(stderr, 2);

  char *end = NULL;
  long port = strtol(port_s, &end, 10);
  if (*port_s == '\0' || *end != '\0' || port < 1 || port > 65535) {
    fprintf(stderr, "healthcheck: bad port '%s' (1-65535)\n", port_s);
    return 2;
  }
  long timeout = timeout_s ? strtol(timeout_s, NULL, 10) : 5;
  if (timeout < 1 || timeout > 600) timeout = 5;
  if (path[0] != '/' || strpbrk(path, " \r\n")) {
    fprintf(stderr, "healthcheck: bad path '%s' (must start with / and hold no spaces)\n", path);
    return 2;
  }

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "healthcheck: bad host '%s' (an IPv4 address)\n", host);
    return 2;
  }

  /* The whole check ends within the timeout even if the server stalls. */
  alarm((unsigned)timeout * 2);

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket", strerror(errno));
  struct timeval tv = {.tv_sec = timeout, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) return fail("connect", strerror(errno));

  char request[1024];
  int n = snprintf(request, sizeof request,
                   "GET %s HTTP/1.0\r\nHost: %s:%ld\r\nUser-Agent: healthcheck/" VERSION "\r\nConnection: close\r\n\r\n",
                   path, host, port);
  if (n < 0 || (size_t)n >= sizeof request) return fail("request too long", NULL);
  for (int sent = 0; sent < n;) {
    ssize_t w = write(fd, request + sent, (size_t)(n - sent));
    if (w < 0) return fail("send", strerror(errno));
    sent += (int)w;
  }

  /* Only the status line matters: "HTTP/1.x NNN ..." */
  char status[64];
  size_t got = 0;
  while (got < sizeof status - 1) {
    ssize_t r = read(fd, status + got, sizeof status - 1 - got);
    if (r < 0) return fail("receive", strerror(errno));
    if (r == 0) break;
    got += (size_t)r;
    if (memchr(status, '\n', got)) break;
  }
  close(fd);
  status[got] = '\0';

  int code = 0;
  if (sscanf(status, "HTTP/%*d.%*d %3d", &code) != 1) return fail("not an HTTP answer", NULL);
  if (code >= 200 && code < 400) return 0;
  char detail[16];
  snprintf(detail, sizeof detail, "%d", code);
  return fail("unhealthy status", detail);
}
