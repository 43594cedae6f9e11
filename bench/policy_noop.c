/*
 * policy_noop.c - the floor of the policy benchmark: an epoll server that
 * answers "action=dunno" to every request without parsing it (it only
 * looks for the empty line that ends one). Nothing real can be faster
 * on this machine; bench/run prints it beside postern-policyd.
 *
 *   policy-noop -p PORT
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define BUF 16384

static const char reply[] = "action=dunno\n\n";

/* Counts the requests that end in BUF (N bytes); CARRY holds whether the
 * previous read ended in a newline, across reads. */
static int count_requests(const char *buf, ssize_t n, int *carry)
{
    int requests = 0;

    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            if (*carry)
                requests++;
            *carry = 1;
        } else {
            *carry = 0;
        }
    }
    return requests;
}

static int listen_on(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 1024) < 0) {
        perror("policy-noop: listen");
        exit(1);
    }
    return fd;
}

int main(int argc, char **argv)
{
    struct epoll_event ev, events[MAX_EVENTS];
    static int carry[65536];
    char buf[BUF];
    int lfd, ep, one = 1;

    if (argc != 3 || strcmp(argv[1], "-p") != 0) {
        fprintf(stderr, "usage: policy-noop -p PORT\n");
        return 64;
    }
    lfd = listen_on(atoi(argv[2]));
    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                if (c < 0 || c >= 65536) {
                    if (c >= 0)
                        close(c);
                    continue;
                }
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                carry[c] = 0;
                ev.events = EPOLLIN;
                ev.data.fd = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                continue;
            }
            ssize_t got = read(fd, buf, sizeof(buf));
            if (got <= 0) {
                if (got < 0 && errno == EAGAIN)
                    continue;
                close(fd);
                continue;
            }
            for (int r = count_requests(buf, got, &carry[fd]); r > 0; r--)
                if (write(fd, reply, sizeof(reply) - 1) < 0)
                    break;
        }
    }
}
