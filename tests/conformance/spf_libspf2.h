/*
 * spf_libspf2.h - Debian's libspf2, evaluating through one of our SPF
 * DNS sources (a custom libspf2 DNS layer), so the conformance runner
 * can measure it on the same zone data as our own evaluation. A
 * measuring tool only: postern-spf does not use libspf2 (see
 * postern-spf(8) and the conformance notes).
 *
 * The header keeps libspf2's names out of the caller: its SPF_RESULT_*
 * constants would collide with ours.
 */
#ifndef POSTERN_SPF_LIBSPF2_H
#define POSTERN_SPF_LIBSPF2_H

#include <stddef.h>

#include "spf_dns.h"

/* MAIL FROM check (HELO for an empty MAILFROM) of IP through SRC.
 * Writes libspf2's result name ("pass", "fail", ...) to RESULT and its
 * explanation, when it has one, to EXP. With GUARD set, TXT records
 * that spf_libspf2_record_safe refuses are withheld from libspf2; 0
 * shows it everything (only for observing libspf2's bugs in a child
 * process). 0, or -1 when libspf2 could not even start. */
int spf_libspf2_check(const spf_dns_source_t *src, int guard, const char *ip,
                      const char *helo, const char *mailfrom, char *result, size_t rlen,
                      char *exp, size_t explen);

/* Whether a TXT record may be shown to Debian's libspf2: 0 for one that
 * could trigger its macro-compiler underflow (CVE-2023-42118). */
int spf_libspf2_record_safe(const char *txt, size_t len);

#endif
