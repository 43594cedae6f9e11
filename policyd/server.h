/*
 * server.h - the policy protocol server: libevent, one event loop, many
 * kept-open connections, no thread per connection.
 *
 * NAME
 *	server - accept Postfix policy clients and answer their requests
 *
 * DESCRIPTION
 *	Each connection reads requests one at a time (Postfix waits for the
 *	answer before it sends the next), hands each to the current policy
 *	and writes "action=...\n\n" back. Bounded per connection: at most
 *	REQUEST_MAX_BYTES buffered; a request that is malformed or too big
 *	is answered with a 4.3.0 deferral, logged with the client's
 *	address, and the connection is closed. Connections idle longer than
 *	the idle timeout are closed; beyond max_connections new ones are
 *	closed at once.
 */
#ifndef POSTERN_SERVER_H
#define POSTERN_SERVER_H

#include <event2/event.h>

#include "policy.h"

typedef struct server server_t;

typedef struct server_opts {
    const char *listen;         /* sockspec */
    unsigned socket_mode;       /* unix sockets */
    int idle_timeout_ms;
    unsigned max_connections;
} server_opts_t;

/* Binds the socket (call before dropping privileges). NULL with ERR. */
server_t *server_new(struct event_base *base, const server_opts_t *o, char *err,
                     size_t errlen);
/* The policy used for requests from now on (reload swaps it). */
void server_set_policy(server_t *s, policy_t *p);
unsigned server_connections(const server_t *s);
/* Stop reading from clients (answers still pending are written). */
void server_shutdown(server_t *s);
void server_free(server_t *s);

#endif
