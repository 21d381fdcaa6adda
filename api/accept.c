/* The HTTP listener's accept thread (see accept.h). */
#include "api/accept.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"

struct api_acceptor {
    struct MHD_Daemon *mhd;
    int lfd;  /* the listening socket */
    int stop; /* eventfd: written by api_acceptor_stop */
    pthread_t thread;
};

/* A listening socket on a4; -1 on failure, errno set. */
static int listen_on(const struct sockaddr_in *a4)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (const struct sockaddr *)a4, sizeof(*a4)) != 0 ||
        listen(fd, API_ACCEPT_BACKLOG) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* Accepts one waiting connection and hands it to MHD (which closes it if it cannot take it). */
static void accept_one(struct api_acceptor *a)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer);
    int fd = accept4(a->lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
    if (fd >= 0) {
        if (MHD_add_connection(a->mhd, fd, (struct sockaddr *)&peer, len) != MHD_YES) {
            fy_log(FY_LOG_WARN, "http", "connection refused: %s", strerror(errno));
        }
    } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        fy_log(FY_LOG_WARN, "http", "accept: %s", strerror(errno));
        usleep(API_ACCEPT_RETRY_MS * 1000); /* until a connection closes */
    }
}

static void *run(void *arg)
{
    struct api_acceptor *a = arg;
    struct pollfd p[2] = {{a->lfd, POLLIN, 0}, {a->stop, POLLIN, 0}};
    for (;;) {
        if (poll(p, 2, -1) < 0 && errno != EINTR) {
            fy_log(FY_LOG_ERROR, "http", "poll: %s", strerror(errno));
            break;
        }
        if (p[1].revents) {
            break;
        }
        if (p[0].revents & POLLIN) {
            accept_one(a);
        }
    }
    return NULL;
}

static void release(struct api_acceptor *a)
{
    if (a->lfd >= 0) {
        close(a->lfd);
    }
    if (a->stop >= 0) {
        close(a->stop);
    }
    fy_free(a);
}

fy_err api_acceptor_start(struct MHD_Daemon *mhd,
                          const char *addr,
                          uint16_t port,
                          struct api_acceptor **out,
                          uint16_t *bound,
                          struct fy_errmsg *em)
{
    struct sockaddr_in a4;
    memset(&a4, 0, sizeof(a4));
    a4.sin_family = AF_INET;
    a4.sin_port = htons(port);
    if (inet_pton(AF_INET, addr, &a4.sin_addr) != 1) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "bind address %.64s is not an IPv4 literal",
                       addr);
    }
    struct api_acceptor *a = fy_calloc(1, sizeof(*a));
    if (!a) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    a->mhd = mhd;
    a->stop = eventfd(0, EFD_CLOEXEC);
    a->lfd = a->stop >= 0 ? listen_on(&a4) : -1;
    struct sockaddr_in got;
    socklen_t len = sizeof(got);
    if (a->lfd < 0 || getsockname(a->lfd, (struct sockaddr *)&got, &len) != 0) {
        fy_err e = fy_fail(em, FY_ERR_INTERNAL, "cannot listen on %.64s:%u: %s", addr, port,
                           strerror(errno));
        release(a);
        return e;
    }
    int rc = pthread_create(&a->thread, NULL, run, a);
    if (rc != 0) {
        release(a);
        return fy_fail(em, FY_ERR_INTERNAL, "cannot start the accept thread: %s", strerror(rc));
    }
    *bound = ntohs(got.sin_port);
    *out = a;
    return FY_ERR_OK;
}

void api_acceptor_stop(struct api_acceptor *a)
{
    if (!a) {
        return;
    }
    uint64_t one = 1; /* cannot overflow the counter: the only write */
    while (write(a->stop, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
    pthread_join(a->thread, NULL);
    release(a);
}
