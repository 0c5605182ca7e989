/*
 * nodelay_preload.c — experiment only, not part of any build: an LD_PRELOAD
 * shim that sets TCP_NODELAY on every socket a process accepts, to measure
 * what Nagle's algorithm costs foyerd without touching its code.
 *
 *   cc -O2 -shared -fPIC -o /tmp/nodelay.so bench/experiments/nodelay_preload.c -ldl
 *   printf '#!/bin/sh\nLD_PRELOAD=/tmp/nodelay.so exec %s "$@"\n' "$PWD/target/release/foyerd" > /tmp/foyerd-nodelay
 *   chmod +x /tmp/foyerd-nodelay
 *   target/release/foyer-bench run --foyerd /tmp/foyerd-nodelay --only docs,files ...
 *
 * See docs/benchmarks.md ("What limits performance").
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd) {
    if (fd >= 0) {
        int one = 1;
        /* Fails harmlessly (ENOTSUP/EOPNOTSUPP) on non-TCP sockets. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
    int s = real(fd, addr, len, flags);
    nodelay(s);
    return s;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len) {
    static int (*real)(int, struct sockaddr *, socklen_t *);
    if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
    int s = real(fd, addr, len);
    nodelay(s);
    return s;
}
