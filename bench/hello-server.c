// The pod's HTTP greeting server for the userspace bench's new-connection rate: one thread, epoll, no
// allocation per connection. Each accepted connection is read once (the request; wrk sends it in one
// segment), answered with a fixed response that says "Connection: close", and closed, so every request of
// the load generator (wrk) is a new TCP connection. Reading the request before closing matters: closing
// with unread bytes would send a reset instead of the response's FIN. The bench compiles this file with the
// machine's cc into a temporary folder; the same server answers the proxied and the DNAT'ed path.
// Usage: hello-server PORT; prints "ready" once listening; exits when its standard input ends.
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n";

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
  struct epoll_event evs[256];
  char buf[4096];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == ls) {
        int c;
        while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
      } else if (fd == 0) {
        if (read(0, buf, sizeof buf) <= 0) return 0;
      } else {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) (void)!write(fd, RESPONSE, sizeof RESPONSE - 1);
        close(fd); // also takes it out of the epoll set
      }
    }
  }
}
