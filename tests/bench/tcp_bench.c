// SPDX-License-Identifier: Apache-2.0
// TCP throughput driver of tests/bench/network.sh, built there with `gcc -O2 -static` so the
// same binary runs on the host and inside a container image of a few files.
//
//   tcp_bench sink PORT              accepts connections one after another on 0.0.0.0:PORT,
//                                    reads each to EOF (1 MiB reads, discarded), answers the
//                                    byte count (8 bytes, big-endian) and closes; forever
//   tcp_bench send HOST PORT BYTES   connects to HOST:PORT (IPv4 literal), writes BYTES in
//                                    1 MiB writes, half-closes, waits for the sink's count;
//                                    prints MiB/s (connect to count received) on stdout
//
// The count makes a short transfer an error instead of a fast figure: a userland proxy accepts
// before its backend is reachable, so "connected" does not mean "delivered". Both sides use
// large buffers and leave the socket buffers to the kernel's autotuning, so neither end is
// the bottleneck of what is measured (the path between them).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kChunk = 1 << 20 };

static char buffer[kChunk];

static int die(const char* what) {
  fprintf(stderr, "tcp_bench: %s: %s\n", what, strerror(errno));
  return 1;
}

static int parse_port(const char* text, uint16_t* port) {
  char* end = NULL;
  long value = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value <= 0 || value > 65535)
    return -1;
  *port = (uint16_t)value;
  return 0;
}

static int read_full(int fd, void* data, size_t size) {
  char* p = data;
  while (size > 0) {
    ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    size -= (size_t)n;
  }
  return 0;
}

static int write_full(int fd, const void* data, size_t size) {
  const char* p = data;
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    p += n;
    size -= (size_t)n;
  }
  return 0;
}

static void on_term(int sig) {
  (void)sig;
  _exit(0);
}

static int run_sink(uint16_t port) {
  // As PID 1 of a container SIGTERM is ignored unless handled: stop promptly on `stop`.
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  signal(SIGPIPE, SIG_IGN);
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0)
    return die("socket");
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(listener, (struct sockaddr*)&addr, sizeof addr) < 0)
    return die("bind");
  if (listen(listener, 16) < 0)
    return die("listen");
  for (;;) {
    int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      return die("accept");
    }
    uint64_t total = 0;
    for (;;) {
      ssize_t n = read(conn, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      total += (uint64_t)n;
    }
    unsigned char count[8];
    for (int i = 0; i < 8; ++i) count[i] = (unsigned char)(total >> (56 - 8 * i));
    (void)write_full(conn, count, sizeof count);
    close(conn);
  }
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_send(const char* host, uint16_t port, uint64_t bytes) {
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "tcp_bench: `%s` is not an IPv4 address\n", host);
    return 2;
  }
  memset(buffer, 0x5a, sizeof buffer);
  double start = now_seconds();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return die("socket");
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) < 0)
    return die("connect");
  uint64_t left = bytes;
  while (left > 0) {
    size_t n = left < sizeof buffer ? (size_t)left : sizeof buffer;
    if (write_full(fd, buffer, n) < 0)
      return die("write");
    left -= n;
  }
  if (shutdown(fd, SHUT_WR) < 0)
    return die("shutdown");
  unsigned char count[8];
  if (read_full(fd, count, sizeof count) < 0) {
    fprintf(stderr, "tcp_bench: the sink closed without a byte count\n");
    return 1;
  }
  double elapsed = now_seconds() - start;
  close(fd);
  uint64_t got = 0;
  for (int i = 0; i < 8; ++i) got = got << 8 | count[i];
  if (got != bytes) {
    fprintf(stderr, "tcp_bench: the sink got %llu bytes of %llu\n", (unsigned long long)got,
            (unsigned long long)bytes);
    return 1;
  }
  printf("%.1f\n", (double)bytes / (1 << 20) / elapsed);
  return 0;
}

int main(int argc, char** argv) {
  uint16_t port = 0;
  if (argc == 3 && strcmp(argv[1], "sink") == 0 && parse_port(argv[2], &port) == 0)
    return run_sink(port);
  if (argc == 5 && strcmp(argv[1], "send") == 0 && parse_port(argv[3], &port) == 0) {
    char* end = NULL;
    unsigned long long bytes = strtoull(argv[4], &end, 10);
    if (*argv[4] != '\0' && *end == '\0' && bytes > 0)
      return run_send(argv[2], port, bytes);
  }
  fprintf(stderr, "usage: tcp_bench sink PORT | tcp_bench send HOST PORT BYTES\n");
  return 2;
}
