// The userspace bench's new-connection load: one thread, epoll, CONCURRENCY connections open at a time;
// each connects, waits for the server's first bytes (its greeting), closes, and is replaced by a new one,
// for SECONDS or until STOP_AFTER connections got their greeting. A connection that fails (refused, reset,
// closed before any byte, no byte within 5 s) counts as failed under its reason. Nothing is allocated per
// connection. Prints one JSON line: {"ok":n,"failed":n,"ms":t,"errors":{reason:n},"cpuUs":µs}, cpuUs being
// this process's own CPU time (user + system).
// Usage: conn-client IP PORT SECONDS CONCURRENCY [STOP_AFTER]   (IPv4)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 65536
#define TIMEOUT_NS 5000000000LL

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct sockaddr_in target;
static int ep;
static long long opened_at[MAX_FD];
static long long ok, failed, refused, reset, closed_early, timed_out, other, started;

static void open_one(void) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (s < 0 || s >= MAX_FD) {
    perror("conn-client: socket");
    exit(1);
  }
  started++;
  opened_at[s] = now_ns();
  if (connect(s, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) {
    failed++;
    if (errno == ECONNREFUSED) refused++;
    else other++;
    close(s);
    return;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
  epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: conn-client IP PORT SECONDS CONCURRENCY [STOP_AFTER]\n");
    return 2;
  }
  target.sin_family = AF_INET;
  target.sin_port = htons(atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1) {
    fprintf(stderr, "conn-client: %s is not an IPv4 address\n", argv[1]);
    return 2;
  }
  long long end = now_ns() + (long long)(atof(argv[3]) * 1e9);
  int concurrency = atoi(argv[4]);
  long long stop_after = argc > 5 ? atoll(argv[5]) : -1;
  ep = epoll_create1(0);
  long long t0 = now_ns();
  for (int i = 0; i < concurrency; i++) open_one();
  struct epoll_event evs[256];
  char buf[4096];
  long long last_sweep = t0;
  for (;;) {
    long long t = now_ns();
    int stopping = t >= end || (stop_after >= 0 && ok >= stop_after);
    if (stopping) break;
    int n = epoll_wait(ep, evs, 256, 100);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      ssize_t r = read(fd, buf, sizeof buf);
      if (r < 0 && errno == EAGAIN) continue;
      if (r > 0) ok++;
      else {
        failed++;
        if (r == 0) closed_early++;
        else if (errno == ECONNREFUSED) refused++;
        else if (errno == ECONNRESET) reset++;
        else other++;
      }
      close(fd);
      opened_at[fd] = 0;
      open_one();
    }
    if (t - last_sweep > 500000000LL) { // give up on connections older than the timeout
      last_sweep = t;
      for (int fd = 0; fd < MAX_FD; fd++) {
        if (opened_at[fd] && t - opened_at[fd] > TIMEOUT_NS) {
          failed++;
          timed_out++;
          close(fd);
          opened_at[fd] = 0;
          open_one();
        }
      }
    }
  }
  double ms = (now_ns() - t0) / 1e6;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
  printf("{\"ok\":%lld,\"failed\":%lld,\"ms\":%.1f,\"errors\":{", ok, failed, ms);
  const char *names[] = {"refused", "reset", "closed-early", "timeout", "other"};
  long long counts[] = {refused, reset, closed_early, timed_out, other};
  int first = 1;
  for (int i = 0; i < 5; i++) {
    if (!counts[i]) continue;
    printf("%s\"%s\":%lld", first ? "" : ",", names[i], counts[i]);
    first = 0;
  }
  printf("},\"cpuUs\":%lld}\n", cpu);
  return 0;
}
