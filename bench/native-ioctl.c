// SPDX-License-Identifier: MIT
// The C reference for bench/native-ioctl.mjs: the same ioctls the binding issues, in a tight loop, with
// the same EINTR/EAGAIN retry. Usage: native-ioctl NODE GETCAP_CALLS PAIRS; prints one JSON line with the
// nanoseconds per GET_CAP call and per CREATE_DUMB + GEM_CLOSE pair. Built static so it runs in the VM.
#include <errno.h>
#include <fcntl.h>
#include <linux/ioctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

struct get_cap { uint64_t capability, value; };
struct create_dumb { uint32_t height, width, bpp, flags, handle, pitch; uint64_t size; };
struct gem_close { uint32_t handle, pad; };

#define IOCTL_GET_CAP _IOWR('d', 0x0c, struct get_cap)
#define IOCTL_CREATE_DUMB _IOWR('d', 0xb2, struct create_dumb)
#define IOCTL_GEM_CLOSE _IOW('d', 0x09, struct gem_close)

static int retry_ioctl(int fd, unsigned long request, void *arg) {
  int result;
  do result = ioctl(fd, request, arg);
  while (result < 0 && (errno == EINTR || errno == EAGAIN));
  return result;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s NODE GETCAP_CALLS PAIRS\n", argv[0]);
    return 2;
  }
  int fd = open(argv[1], O_RDWR | O_CLOEXEC);
  if (fd < 0) { perror("open"); return 1; }
  long calls = atol(argv[2]), pairs = atol(argv[3]);

  struct get_cap cap = { .capability = 0x5 };  // DRM_CAP_PRIME
  uint64_t start = now_ns();
  for (long i = 0; i < calls; i++) {
    if (retry_ioctl(fd, IOCTL_GET_CAP, &cap) < 0) { perror("GET_CAP"); return 1; }
  }
  double getcap_ns = (double)(now_ns() - start) / (double)calls;

  start = now_ns();
  for (long i = 0; i < pairs; i++) {
    struct create_dumb create = { .height = 1, .width = 1024, .bpp = 32 };
    if (retry_ioctl(fd, IOCTL_CREATE_DUMB, &create) < 0) { perror("CREATE_DUMB"); return 1; }
    struct gem_close close_arg = { .handle = create.handle };
    if (retry_ioctl(fd, IOCTL_GEM_CLOSE, &close_arg) < 0) { perror("GEM_CLOSE"); return 1; }
  }
  double pair_ns = (double)(now_ns() - start) / (double)pairs;
  printf("{\"getCapNs\":%.1f,\"createClosePairNs\":%.1f}\n", getcap_ns, pair_ns);
  close(fd);
  return 0;
}
