/*
 * dns.h - the one DNS resolver every postern component uses (DKIM keys,
 * SPF, DMARC, PTR): libunbound with a shared cache and per-query deadlines.
 *
 * NAME
 *	dnsr - blocking, thread-safe DNS queries on a shared libunbound context
 *
 * SYNOPSIS
 *	const char *up[] = { "127.0.0.1@5353" };
 *	dnsr_opts_t o = { .upstreams = up, .nupstreams = 1, .timeout_ms = 3000 };
 *	dnsr_t *r = dnsr_new(&o, err, sizeof err);
 *	dnsr_answer_t *a;
 *	if (dnsr_query(r, "_dmarc.example.com", DNSR_TXT, &a) == DNSR_OK)
 *	    for (size_t i = 0; i < dnsr_answer_count(a); i++)
 *	        n = dnsr_answer_txt(a, i, buf, sizeof buf);
 *	dnsr_answer_free(a);
 *	dnsr_free(r);
 *
 * DESCRIPTION
 *	One dnsr_t holds one libunbound context, so every thread of a process
 *	shares its message and RRset cache and a bounded set of sockets (a
 *	resolver per connection is how filters run out of descriptors).
 *	Queries are forwarded to the configured upstreams, or to the
 *	nameservers of /etc/resolv.conf when none are given.
 *
 *	dnsr_query() blocks its calling thread, never longer than the
 *	timeout plus a few milliseconds, even when the server never answers:
 *	a query still running inside unbound at the deadline is cancelled and
 *	reported as DNSR_TIMEOUT. An internal thread drives unbound's answers
 *	to the waiting callers. unbound itself may go on retrying an abandoned
 *	query for a while (about 15 s against a dead server), holding one
 *	socket meanwhile; nothing is leaked, and dnsr_free ends them all.
 *
 *	With opts.dnssec the answers are validated against opts.trust_anchor
 *	(a file of DS/DNSKEY records, e.g. /usr/share/dns/root.key); answers
 *	that fail validation are DNSR_BOGUS, validated ones are marked secure
 *	(dnsr_answer_secure). Without it no anchor is loaded and nothing is
 *	validated.
 *
 *	Names are checked before anything is sent: longer than 253 characters,
 *	a label longer than 63, an empty label, or a control character or
 *	space gives DNSR_ERROR without network traffic.
 *
 *	Answer data comes from the network and is untrusted: the decoders
 *	check every length against the rdata and fail with -1 instead of
 *	reading past it.
 *
 * THREADS
 *	dnsr_query and the answer accessors may be called from any number of
 *	threads at once. dnsr_free must be called once, after every caller
 *	has returned from dnsr_query.
 */
#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

typedef enum {
    DNSR_OK = 0,        /* at least one record of the type */
    DNSR_NXDOMAIN,      /* the name does not exist */
    DNSR_NODATA,        /* the name exists, no record of this type */
    DNSR_SERVFAIL,      /* upstream failed or refused */
    DNSR_TIMEOUT,       /* no answer before the deadline */
    DNSR_BOGUS,         /* DNSSEC validation failed */
    DNSR_ERROR          /* bad name or argument, out of memory, internal */
} dnsr_status_t;

/* Record types by their IANA number; any other number may be queried. */
typedef enum {
    DNSR_A = 1, DNSR_NS = 2, DNSR_CNAME = 5, DNSR_PTR = 12, DNSR_MX = 15,
    DNSR_TXT = 16, DNSR_AAAA = 28
} dnsr_type_t;

typedef struct dnsr_opts {
    const char *const *upstreams;  /* "127.0.0.1@5353", "::1"; port 53 if
                                      none given */
    size_t nupstreams;             /* 0: use /etc/resolv.conf */
    int timeout_ms;                /* per query; <= 0 means 5000 */
    bool dnssec;                   /* validate with trust_anchor */
    const char *trust_anchor;      /* file; required when dnssec */
    size_t cache_bytes;            /* message + RRset cache; 0 = unbound's
                                      default (4 MB + 4 MB) */
} dnsr_opts_t;

typedef struct dnsr dnsr_t;
typedef struct dnsr_answer dnsr_answer_t;

/* "ok", "nxdomain", "nodata", "servfail", "timeout", "bogus", "error". */
const char *dnsr_status_name(dnsr_status_t status);

/*
 * dnsr_new - create a resolver from opts (copied; nothing is kept).
 * Returns NULL and fills err on a bad upstream address, an unreadable
 * trust anchor, dnssec without trust_anchor, or resource failure.
 * Caller frees with dnsr_free.
 */
dnsr_t *dnsr_new(const dnsr_opts_t *opts, char *err, size_t errlen);

/*
 * dnsr_free - cancel queries still running in unbound, stop the internal
 * thread and free everything. NULL is ignored.
 */
void dnsr_free(dnsr_t *r);

/*
 * dnsr_query - look up name (with or without the final dot) and rrtype,
 * class IN, waiting at most the resolver's timeout. dnsr_query_timeout
 * takes the deadline for this query (<= 0: the resolver's).
 * *out is always set, also on failure (then it holds no records); the
 * caller frees it with dnsr_answer_free. Returns the status.
 */
dnsr_status_t dnsr_query(dnsr_t *r, const char *name, int rrtype,
                         dnsr_answer_t **out);
dnsr_status_t dnsr_query_timeout(dnsr_t *r, const char *name, int rrtype,
                                 int timeout_ms, dnsr_answer_t **out);

/* Number of records of the queried type (0 unless DNSR_OK). */
size_t dnsr_answer_count(const dnsr_answer_t *a);

/* Raw rdata of record i and its length in *len; NULL if i is out of
 * range. The memory belongs to the answer. */
const void *dnsr_answer_rdata(const dnsr_answer_t *a, size_t i, size_t *len);

/*
 * dnsr_answer_txt - record i as one string: its character-strings
 * concatenated without separator (RFC 7208 3.3, RFC 6376 3.6.2.2),
 * NUL-terminated in buf. Returns the length (which may include NUL bytes
 * from the data), or -1 when i is out of range, the rdata is malformed
 * or buf is too small.
 */
int dnsr_answer_txt(const dnsr_answer_t *a, size_t i, char *buf,
                    size_t buflen);

/* Record i as an address. 0, or -1 when out of range or not 4/16 bytes. */
int dnsr_answer_a(const dnsr_answer_t *a, size_t i, struct in_addr *addr);
int dnsr_answer_aaaa(const dnsr_answer_t *a, size_t i,
                     struct in6_addr *addr);

/*
 * dnsr_answer_mx / dnsr_answer_ptr - record i's preference and host name,
 * in presentation form without the final dot ("." for the root), with
 * dots and unusual bytes inside labels escaped as \DDD. Return the
 * name's length, or -1 when out of range, malformed (including
 * compression pointers) or host too small.
 */
int dnsr_answer_mx(const dnsr_answer_t *a, size_t i, unsigned *pref,
                   char *host, size_t hostlen);
int dnsr_answer_ptr(const dnsr_answer_t *a, size_t i, char *host,
                    size_t hostlen);

/* The whole answer message in wire form, for libraries that parse it
 * themselves; NULL and *len 0 when there was no answer. */
const unsigned char *dnsr_answer_packet(const dnsr_answer_t *a, size_t *len);

/* Whether DNSSEC validated the answer; its TTL in seconds (0 if none). */
bool dnsr_answer_secure(const dnsr_answer_t *a);
int dnsr_answer_ttl(const dnsr_answer_t *a);

/* The validator's reason for DNSR_BOGUS, or NULL. Belongs to the answer. */
const char *dnsr_answer_why_bogus(const dnsr_answer_t *a);

void dnsr_answer_free(dnsr_answer_t *a);

/*
 * dnsr_reverse_name - the PTR query name for an address: af AF_INET with
 * a struct in_addr gives "4.3.2.1.in-addr.arpa", AF_INET6 with a struct
 * in6_addr the 32-nibble ".ip6.arpa" name. Returns its length, or -1 for
 * another af or a buf too small.
 */
int dnsr_reverse_name(int af, const void *addr, char *buf, size_t buflen);

/*
 * Decoders of raw rdata, used by the dnsr_answer_* accessors and
 * usable on rdata from elsewhere. Same results as the accessors.
 */
int dnsr_rdata_txt(const unsigned char *rd, size_t len, char *buf,
                   size_t buflen);
int dnsr_rdata_name(const unsigned char *rd, size_t len, char *buf,
                    size_t buflen);

/* A resolver from the [global] keys dns_upstream, dns_timeout,
 * dns_dnssec and dns_trust_anchor of CFG (config.h); NULL with ERR. */
struct config;
dnsr_t *dnsr_new_from_config(const struct config *cfg, char *err, size_t errlen);

#endif
