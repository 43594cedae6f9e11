/*
 * dmarc_report.h - RFC 7489 aggregate reports (section 7.2, Appendix C)
 * built from the DMARC history: one XML document per policy domain and
 * period, gzip-compressed, under the name the RFC gives it.
 *
 * NAME
 *	dmarc_report - aggregate report XML and files
 *
 * SYNOPSIS
 *	dmarc_report_meta_t m = { "Example Org", "postmaster@mx.example.org",
 *	                          "mx.example.org", begin, end };
 *	int n = dmarc_report_write_all(hist, &m, "/var/spool/postern/dmarc",
 *	                               NULL, NULL, err, sizeof err);
 *
 * DESCRIPTION
 *	The document follows the schema of RFC 7489 Appendix C: feedback
 *	with version, report_metadata (org_name, email, report_id,
 *	date_range), policy_published (the latest policy seen for the domain
 *	in the period: domain, adkim, aspf, p, sp, pct, fo) and one record
 *	per group of identical messages (row: source_ip, count,
 *	policy_evaluated with disposition, dkim, spf and override reasons;
 *	identifiers: header_from; auth_results: every DKIM result and the
 *	SPF result). libxml2's xmlwriter does the escaping; text from the
 *	network has control and non-ASCII bytes replaced by '?' first, so
 *	the document is always well-formed.
 *
 *	The schema puts "feedback" in the namespace
 *	http://dmarc.org/dmarc-xml/0.1 and every element below it in none
 *	(its local elements are unqualified), so the root is written with a
 *	prefix and the rest without: the one form that validates.
 *
 *	The schema's IPAddress type accepts dotted IPv4 and uncompressed
 *	IPv6 only: IPv6 sources are written with all eight groups, IPv4-
 *	mapped ones as IPv4. Messages whose source address is unknown are
 *	not listed; an <error> in report_metadata counts them.
 *
 *	File name (7.2.1.1): receiver!policy-domain!begin!end.xml.gz.
 *	Files are written under a temporary name and renamed, so a reader
 *	never sees half a report.
 */
#ifndef POSTERN_DMARC_REPORT_H
#define POSTERN_DMARC_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "dmarc_hist.h"

typedef struct dmarc_report_meta {
    const char *org_name;
    const char *email;
    const char *receiver;       /* our domain, first part of the file name */
    int64_t begin, end;         /* [begin, end), seconds since the epoch */
} dmarc_report_meta_t;

/* Called after each file: its path, policy domain and rua list. */
typedef void (*dmarc_report_file_fn)(void *arg, const char *path, const char *domain,
                                     const char *rua);

/*
 * dmarc_report_xml - DOMAIN's report for M as XML in *XML (NUL-
 * terminated, *LEN bytes; caller frees with free()). Returns 1 with a
 * document, 0 when the period holds no message for DOMAIN (*XML NULL),
 * -1 with ERR.
 */
int dmarc_report_xml(dmarc_hist_t *h, const char *domain, const dmarc_report_meta_t *m,
                     char **xml, size_t *len, char *err, size_t errlen);

/* The file name for DOMAIN under M into BUF; its length or -1. */
int dmarc_report_filename(const dmarc_report_meta_t *m, const char *domain, char *buf,
                          size_t buflen);

/*
 * dmarc_report_write_all - one gzip file per policy domain with
 * messages in the period and a rua tag (domains that ask for no
 * reports get none), in directory OUTDIR. EACH (may be NULL) is
 * told of every file. Returns the number of files, or -1 with ERR.
 */
int dmarc_report_write_all(dmarc_hist_t *h, const dmarc_report_meta_t *m,
                           const char *outdir, dmarc_report_file_fn each, void *arg,
                           char *err, size_t errlen);

/*
 * dmarc_report_period - the period SPEC names, at time NOW: "yesterday"
 * (the previous UTC day, the usual daily report), "today" (so far),
 * "YYYY-MM-DD" (that UTC day) or "BEGIN-END" (seconds since the epoch,
 * BEGIN < END). 0 and [*BEGIN, *END), or -1 for anything else.
 */
int dmarc_report_period(const char *spec, int64_t now, int64_t *begin, int64_t *end);

/*
 * dmarc_report_rua_address - the mail address of one rua URI
 * ("mailto:agg@example.com!10m" -> "agg@example.com") into BUF, checked
 * to be safe on a command line and in a header (letters, digits and
 * ".-_+=" around one "@"; no leading "-"). Its length, or -1.
 */
int dmarc_report_rua_address(const char *uri, size_t len, char *buf, size_t buflen);

#endif
