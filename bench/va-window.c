// SPDX-License-Identifier: MIT
// The bare cost of what the VA window backend does per map+unmap request pair: one MAP_FIXED mmap of a
// memfd range into a reserved PROT_NONE window, and one MAP_FIXED PROT_NONE anonymous mmap punching it
// back into a hole. The window has the layout of the bench's backend (2 * PAGES + 1 pages, the mapping at
// page 1), so the kernel splits and merges the same areas on both sides. With CHECKED 1 it also makes the two checks lib/drm's window does before each map
// (fstat, and F_GET_SEALS for F_SEAL_SHRINK), so the gap to the addon can be split into checks and JS.
// Usage: va-window PAGES PAIRS CHECKED; prints the mean nanoseconds per pair.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PAGES PAIRS CHECKED\n", argv[0]);
    return 2;
  }
  long pages = atol(argv[1]);
  long pairs = atol(argv[2]);
  int checked = atoi(argv[3]);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t length = (size_t)pages * page;
  int memfd = memfd_create("va-window-bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (memfd < 0 || ftruncate(memfd, (off_t)length) != 0) return perror("memfd"), 1;
  if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) return perror("seal"), 1;
  char *window = mmap(NULL, 2 * length + page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (window == MAP_FAILED) return perror("reserve"), 1;
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (long i = 0; i < pairs; i++) {
    if (checked) {
      struct stat st;
      if (fstat(memfd, &st) != 0 || (fcntl(memfd, F_GET_SEALS) & F_SEAL_SHRINK) == 0) return perror("check"), 1;
    }
    if (mmap(window + page, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd, 0) == MAP_FAILED) return perror("map"), 1;
    if (mmap(window + page, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED) return perror("unmap"), 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  double ns = (double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec);
  printf("%.1f\n", ns / (double)pairs);
  return 0;
}
