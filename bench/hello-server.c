// The pod's greeting server for the userspace bench's new-connection rate (bench/conn-client.c is the
// client): one thread, epoll on the listening socket only; each accepted connection gets a short greeting
// and is closed at once, so the server does nothing per connection but accept, write and close. The bench
// compiles this file with the machine's cc into a temporary folder; the same server answers the proxied
// and the DNAT'ed path.
// Usage: hello-server PORT; prints "ready" once listening; exits when its standard input ends.
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: hello-server PORT\n");
    return 2;
  }
  int ls = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int off = 0, on = 1;
  setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(atoi(argv[1])), .sin6_addr = IN6ADDR_ANY_INIT};
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
    perror("hello-server: listen");
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  ev.data.fd = 0; // stdin: its end stops the server
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
  printf("ready\n");
  fflush(stdout);
  struct epoll_event evs[8];
  char buf[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 8, -1);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.fd == 0) {
        if (read(0, buf, sizeof buf) <= 0) return 0;
        continue;
      }
      int c;
      while ((c = accept4(ls, NULL, NULL, 0)) >= 0) {
        (void)!write(c, "hello\n", 6); // an empty socket buffer takes it whole
        close(c);
      }
    }
  }
}
