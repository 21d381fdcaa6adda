/* The HTTP listener's accept thread. MHD's pool threads would each poll the listening socket,
 * and whichever wakes first accepts: a running thread often takes several of a client's
 * connections while another has none, and their requests then wait on each other. Here one
 * thread accepts and hands each connection to MHD (MHD_add_connection), which places it in
 * the pool by socket number: a burst of connections is spread round robin. */
#ifndef FY_API_ACCEPT_H
#define FY_API_ACCEPT_H

#include <stdint.h>

#include <microhttpd.h>

#include "core/err.h"

#define API_ACCEPT_BACKLOG  512 /* connections waiting to be accepted */
#define API_ACCEPT_RETRY_MS 10  /* pause after accept failed for want of descriptors */

struct api_acceptor;

/* Listens on addr:port (an IPv4 literal; port 0 picks a free one, returned in *bound) and
 * hands every connection to mhd, a daemon started with MHD_USE_NO_LISTEN_SOCKET and
 * MHD_USE_ITC. *out is owned (api_acceptor_stop, before MHD_stop_daemon). */
FY_NODISCARD fy_err api_acceptor_start(struct MHD_Daemon *mhd,
                                       const char *addr,
                                       uint16_t port,
                                       struct api_acceptor **out,
                                       uint16_t *bound,
                                       struct fy_errmsg *em);

/* Stops accepting and closes the listening socket (connections already handed over stay). */
void api_acceptor_stop(struct api_acceptor *a);

#endif
