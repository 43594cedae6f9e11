/*
 * sockspec.h - milter socket specs, as admins write them in the config
 * and as libmilter's smfi_setconn() takes them.
 *
 * NAME
 *	sockspec - parse "unix:/path", "inet:PORT@HOST", "inet6:PORT@HOST"
 *
 * DESCRIPTION
 *	"unix:PATH" and "local:PATH" are UNIX sockets (PATH absolute and
 *	shorter than sun_path). "inet:PORT@HOST" listens on an IPv4
 *	address, "inet6:PORT@HOST" on an IPv6 one (HOST may be bracketed:
 *	"[::1]"). Without "@HOST" the socket listens on every address, as in
 *	Sendmail's syntax. HOST must be a numeric address: a daemon that
 *	binds a name would depend on DNS at start.
 *
 *	sockspec_parse() fills OUT with the parts and with the normalised
 *	spec libmilter accepts (brackets removed). A pure function.
 */
#ifndef POSTERN_SOCKSPEC_H
#define POSTERN_SOCKSPEC_H

#include <stddef.h>
#include <sys/un.h>

typedef enum { SOCKSPEC_UNIX, SOCKSPEC_INET, SOCKSPEC_INET6 } sockspec_family_t;

typedef struct sockspec {
    sockspec_family_t family;
    char path[sizeof(((struct sockaddr_un *) 0)->sun_path)];  /* UNIX */
    unsigned port;                                            /* INET* */
    char host[64];              /* numeric; "" = every address */
    char milter[160];           /* the spec for smfi_setconn() */
} sockspec_t;

/* 0, or -1 with ERR saying what is wrong with SPEC. */
int sockspec_parse(const char *spec, sockspec_t *out, char *err, size_t errlen);

#endif
