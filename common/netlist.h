/*
 * netlist.h - lists of IPv4 and IPv6 networks, for "internal hosts",
 * ignore lists and the like.
 *
 * NAME
 *	netlist - CIDR lists with fast, allocation-free lookup
 *
 * SYNOPSIS
 *	netlist_t *nl = netlist_new();
 *	netlist_add_list(nl, "127.0.0.0/8, ::1, !10.1.2.0/24, 10.0.0.0/8", err, len);
 *	if (netlist_match_str(nl, "10.9.8.7")) ...
 *	netlist_free(nl);
 *
 * DESCRIPTION
 *	An entry is an address ("192.0.2.7", "2001:db8::1"), a network
 *	("192.0.2.0/24", "2001:db8::/32"), either optionally preceded by
 *	"!" to exclude it. Entries are tried in the order they were added
 *	and the first that contains the address decides: "!10.1.2.0/24,
 *	10.0.0.0/8" means all of 10/8 except 10.1.2/24. A network with bits
 *	set past its prefix ("10.1.2.3/8") is an error, as in Postfix's
 *	cidr tables, because it is nearly always a typo.
 *
 *	IPv4-mapped IPv6 addresses (::ffff:192.0.2.7) match IPv4 entries.
 *	Textual addresses may carry brackets ("[192.0.2.7]") or an "IPv6:"
 *	prefix, as MTAs write them.
 *
 *	Lookup does not allocate and costs one binary search per distinct
 *	prefix length in the list; a built list is safe for any number of
 *	concurrent readers. Adding is not thread-safe: build, then share.
 *
 * RETURNS
 *	The add functions return 0, or -1 with ERR saying which entry (and,
 *	for files, "PATH:LINE: ") is wrong; nothing is added from a list or
 *	file that has an error.
 */
#ifndef POSTERN_NETLIST_H
#define POSTERN_NETLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* A list file is for humans; bigger than this is a mistake. */
#define NETLIST_MAX_ENTRIES 1000000

typedef struct netlist netlist_t;

netlist_t *netlist_new(void);
void netlist_free(netlist_t *nl);

/* One entry. */
int netlist_add(netlist_t *nl, const char *entry, char *err, size_t errlen);
/* Entries separated by commas and/or blanks; an item starting with '/'
 * is a file of entries (netlist_load_file). */
int netlist_add_list(netlist_t *nl, const char *text, char *err, size_t errlen);
/* One entry per line; '#' starts a comment; blank lines are skipped. */
int netlist_load_file(netlist_t *nl, const char *path, char *err, size_t errlen);

/* AF_INET with a struct in_addr *, or AF_INET6 with a struct in6_addr *. */
bool netlist_match(const netlist_t *nl, int af, const void *addr);
bool netlist_match_str(const netlist_t *nl, const char *addr);
bool netlist_match_sockaddr(const netlist_t *nl, const struct sockaddr *sa);

size_t netlist_count(const netlist_t *nl);

#endif
