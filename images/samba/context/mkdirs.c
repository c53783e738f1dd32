/*
 * mkdirs: makes folders (and their missing parents) for the samba entrypoint,
 * which has bash but no coreutils. New folders get MODE (octal); folders that
 * exist are left as they are. One line on stderr and exit 1 on failure.
 *
 *   mkdirs MODE PATH...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int make(char *path, mode_t mode) {
  struct stat st;
  for (char *p = path + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char c = *p;
    *p = '\0';
    if (mkdir(path, mode) != 0 && errno != EEXIST) {
      fprintf(stderr, "mkdirs: %s: %s\n", path, strerror(errno));
      return 1;
    }
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
      fprintf(stderr, "mkdirs: %s: not a folder\n", path);
      return 1;
    }
    *p = c;
    if (c == '\0') return 0;
  }
}

int main(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "--version") == 0)) {
    puts("usage: mkdirs MODE PATH... (makes folders and their missing parents)");
    return 0;
  }
  char *end = NULL;
  long mode = argc >= 3 ? strtol(argv[1], &end, 8) : -1;
  if (argc < 3 || *end != '\0' || mode < 0 || mode > 07777) {
    fputs("usage: mkdirs MODE PATH... (MODE in octal, PATH absolute)\n", stderr);
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (argv[i][0] != '/') {
      fprintf(stderr, "mkdirs: %s: not an absolute path\n", argv[i]);
      return 2;
    }
    if (make(argv[i], (mode_t)mode) != 0) return 1;
  }
  return 0;
}
