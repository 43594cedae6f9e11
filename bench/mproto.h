/*
 * mproto.h - the MTA side of the milter protocol (version 6): packet
 * encoder, reply stream decoder and reply checks, for the load generator.
 *
 * NAME
 *	mproto - build milter commands, decode milter replies
 *
 * SYNOPSIS
 *	mproto_buf_t b;  mproto_buf_init(&b);
 *	mproto_put_optneg(&b, 6, actions, protocol);
 *	mproto_put_strs(&b, SMFIC_HELO, (const char *[]){"mx.example"}, 1);
 *	write(fd, b.data, b.len);  mproto_buf_reset(&b);  ...  mproto_buf_free(&b);
 *
 *	mproto_dec_t *d = mproto_dec_new(MPROTO_MAX_PACKET);
 *	mproto_dec_feed(d, bytes, n, err, sizeof err);
 *	while ((r = mproto_dec_next(d, &pkt, err, sizeof err)) == 1)
 *		mproto_reply_check(&pkt, err, sizeof err) ...
 *	mproto_dec_free(d);
 *
 * DESCRIPTION
 *	A packet is a 4-byte big-endian length, a command byte and
 *	length - 1 bytes of data (libmilter's mfdef.h names the command
 *	bytes; this module uses those constants and defines none of its own).
 *
 *	Everything the milter sends is untrusted: the decoder bounds the
 *	packet length (max_packet) and never reads past what it was fed;
 *	mproto_reply_check() validates the payload shape of each reply so
 *	the caller can tally it without further checks.
 *
 *	The encoder appends to a growable buffer so a whole stage (macros
 *	plus command) goes out in one write(2), as Postfix does.
 *
 * RETURNS
 *	Encoders: 0, or -1 when memory runs out or a field is too long for
 *	a packet (the buffer is then unchanged).
 */
#ifndef POSTERN_MPROTO_H
#define POSTERN_MPROTO_H

#include <stddef.h>
#include <stdint.h>

/* The milter never needs more: libmilter caps packets at 64 KiB
 * (MILTER_CHUNK_SIZE) unless MDS is negotiated, which we never offer. */
#define MPROTO_MAX_PACKET (1024u * 1024u)

/* Stages of a macro list in the OPTNEG reply (mfapi.h SMFIM_*). */
#define MPROTO_NSTAGES 7

typedef struct {
    unsigned char *data;
    size_t len;
    size_t cap;
} mproto_buf_t;

typedef struct {
    char cmd;                   /* SMFIR_* or SMFIC_OPTNEG */
    const unsigned char *data;  /* valid until the next dec_* call */
    size_t len;
} mproto_pkt_t;

typedef struct mproto_dec mproto_dec_t;

typedef struct {
    uint32_t version;
    uint32_t actions;           /* SMFIF_* the milter may use */
    uint32_t protocol;          /* SMFIP_* the milter asks for */
    /* Macro names the milter wants per stage (SMFIM_*), space separated
     * as sent; NULL when it sent no list for that stage. Owned by the
     * struct: release with mproto_optneg_clear(). */
    char *macros[MPROTO_NSTAGES];
} mproto_optneg_t;

void mproto_buf_init(mproto_buf_t *b);
void mproto_buf_reset(mproto_buf_t *b);     /* len = 0, keeps memory */
void mproto_buf_free(mproto_buf_t *b);

/* One packet: cmd then len bytes of data. */
int mproto_put(mproto_buf_t *b, char cmd, const void *data, size_t len);

/* One packet whose data is the n strings, each followed by NUL (HELO,
 * MAIL, RCPT, HEADER). */
int mproto_put_strs(mproto_buf_t *b, char cmd, const char *const *strs,
                    size_t n);

int mproto_put_optneg(mproto_buf_t *b, uint32_t version, uint32_t actions,
                      uint32_t protocol);

/* SMFIC_CONNECT: family is SMFIA_INET, SMFIA_INET6, SMFIA_UNIX or
 * SMFIA_UNKNOWN (then port and addr are not sent). */
int mproto_put_connect(mproto_buf_t *b, const char *host, char family,
                       uint16_t port, const char *addr);

/* SMFIC_MACRO for the stage command `stage` with n name/value pairs
 * (nv[2i] name, nv[2i+1] value). */
int mproto_put_macros(mproto_buf_t *b, char stage, const char *const *nv,
                      size_t n);

/* New decoder accepting packets up to max_packet bytes (command byte
 * included). NULL when memory runs out. Caller frees with
 * mproto_dec_free(). */
mproto_dec_t *mproto_dec_new(size_t max_packet);
void mproto_dec_free(mproto_dec_t *d);
void mproto_dec_reset(mproto_dec_t *d);     /* drop buffered bytes */

/* Appends n received bytes. 0, or -1 (out of memory; err filled). */
int mproto_dec_feed(mproto_dec_t *d, const void *p, size_t n, char *err,
                    size_t errlen);

/* Takes the next complete packet: 1 and *pkt filled, 0 when more bytes
 * are needed, -1 on a length of 0 or above max_packet (err filled; the
 * stream cannot be resynchronised, close it). */
int mproto_dec_next(mproto_dec_t *d, mproto_pkt_t *pkt, char *err,
                    size_t errlen);

/* Parses an SMFIC_OPTNEG reply, with the optional v6 macro lists
 * ((uint32 stage, NUL-terminated names) pairs). 0, or -1 on a short or
 * malformed packet (err filled, *o left empty). */
int mproto_parse_optneg(const mproto_pkt_t *pkt, mproto_optneg_t *o,
                        char *err, size_t errlen);
void mproto_optneg_clear(mproto_optneg_t *o);

/* Is cmd a reply that ends the current stage (accept, continue, reject,
 * tempfail, discard, replycode, skip, connfail, shutdown)? */
int mproto_reply_is_final(char cmd);

/* Checks a reply's payload shape for its command: 0, or -1 with err
 * filled on an unknown command or malformed data. */
int mproto_reply_check(const mproto_pkt_t *pkt, char *err, size_t errlen);

/* Short lower-case name of a reply command ("accept", "addheader"),
 * or "unknown". Static storage. */
const char *mproto_reply_name(char cmd);

/* Human-readable one-line rendering of a checked reply into out
 * (e.g. "addheader X-Foo: bar"); non-printable bytes escaped, truncated
 * to outlen. Returns out. */
char *mproto_reply_format(const mproto_pkt_t *pkt, char *out, size_t outlen);

#endif
