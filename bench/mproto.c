/*
 * mproto.c - milter protocol v6 codec for milter-load: encodes the MTA's
 * commands and decodes the milter's replies, which are untrusted input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "mproto.h"

struct mproto_dec {
    unsigned char *buf;
    size_t len;         /* bytes buffered */
    size_t off;         /* start of the first unconsumed byte */
    size_t cap;
    size_t max_packet;
};

void mproto_buf_init(mproto_buf_t *b)
{
    memset(b, 0, sizeof *b);
}

void mproto_buf_reset(mproto_buf_t *b)
{
    b->len = 0;
}

void mproto_buf_free(mproto_buf_t *b)
{
    free(b->data);
    mproto_buf_init(b);
}

static int buf_reserve(mproto_buf_t *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more)
        cap *= 2;
    unsigned char *p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    uint32_t n = htonl(v);
    memcpy(p, &n, 4);
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t n;
    memcpy(&n, p, 4);
    return ntohl(n);
}

/* Opens a packet of len data bytes; the caller appends exactly len. */
static int put_header(mproto_buf_t *b, char cmd, size_t len)
{
    if (len >= MPROTO_MAX_PACKET || buf_reserve(b, 5 + len) < 0)
        return -1;
    put_u32(b->data + b->len, (uint32_t)(len + 1));
    b->data[b->len + 4] = (unsigned char)cmd;
    b->len += 5;
    return 0;
}

static void append(mproto_buf_t *b, const void *p, size_t n)
{
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

int mproto_put(mproto_buf_t *b, char cmd, const void *data, size_t len)
{
    if (put_header(b, cmd, len) < 0)
        return -1;
    append(b, data, len);
    return 0;
}

int mproto_put_strs(mproto_buf_t *b, char cmd, const char *const *strs,
                    size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(strs[i]) + 1;
    if (put_header(b, cmd, len) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        append(b, strs[i], strlen(strs[i]) + 1);
    return 0;
}

int mproto_put_optneg(mproto_buf_t *b, uint32_t version, uint32_t actions,
                      uint32_t protocol)
{
    unsigned char d[MILTER_OPTLEN];
    put_u32(d, version);
    put_u32(d + 4, actions);
    put_u32(d + 8, protocol);
    return mproto_put(b, SMFIC_OPTNEG, d, sizeof d);
}

int mproto_put_connect(mproto_buf_t *b, const char *host, char family,
                       uint16_t port, const char *addr)
{
    size_t hl = strlen(host) + 1;
    size_t len = hl + 1;
    if (family != SMFIA_UNKNOWN)
        len += 2 + strlen(addr) + 1;
    if (put_header(b, SMFIC_CONNECT, len) < 0)
        return -1;
    append(b, host, hl);
    append(b, &family, 1);
    if (family != SMFIA_UNKNOWN) {
        uint16_t p = htons(port);
        append(b, &p, 2);
        append(b, addr, strlen(addr) + 1);
    }
    return 0;
}

int mproto_put_macros(mproto_buf_t *b, char stage, const char *const *nv,
                      size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < 2 * n; i++)
        len += strlen(nv[i]) + 1;
    if (put_header(b, SMFIC_MACRO, len) < 0)
        return -1;
    append(b, &stage, 1);
    for (size_t i = 0; i < 2 * n; i++)
        append(b, nv[i], strlen(nv[i]) + 1);
    return 0;
}

mproto_dec_t *mproto_dec_new(size_t max_packet)
{
    mproto_dec_t *d = calloc(1, sizeof *d);
    if (d != NULL)
        d->max_packet = max_packet;
    return d;
}

void mproto_dec_free(mproto_dec_t *d)
{
    if (d != NULL)
        free(d->buf);
    free(d);
}

void mproto_dec_reset(mproto_dec_t *d)
{
    d->len = d->off = 0;
}

int mproto_dec_feed(mproto_dec_t *d, const void *p, size_t n, char *err,
                    size_t errlen)
{
    if (d->off > 0) {           /* compact before growing */
        memmove(d->buf, d->buf + d->off, d->len - d->off);
        d->len -= d->off;
        d->off = 0;
    }
    if (d->len + n > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->len + n)
            cap *= 2;
        unsigned char *nb = realloc(d->buf, cap);
        if (nb == NULL) {
            snprintf(err, errlen, "out of memory buffering a reply");
            return -1;
        }
        d->buf = nb;
        d->cap = cap;
    }
    if (n > 0)
        memcpy(d->buf + d->len, p, n);
    d->len += n;
    return 0;
}

int mproto_dec_next(mproto_dec_t *d, mproto_pkt_t *pkt, char *err,
                    size_t errlen)
{
    size_t avail = d->len - d->off;
    if (avail < MILTER_LEN_BYTES)
        return 0;
    uint32_t plen = get_u32(d->buf + d->off);
    if (plen == 0 || plen > d->max_packet) {
        snprintf(err, errlen, "reply packet length %lu outside 1..%zu",
                 (unsigned long)plen, d->max_packet);
        return -1;
    }
    if (avail - MILTER_LEN_BYTES < plen)
        return 0;
    const unsigned char *p = d->buf + d->off + MILTER_LEN_BYTES;
    pkt->cmd = (char)p[0];
    pkt->data = p + 1;
    pkt->len = plen - 1;
    d->off += MILTER_LEN_BYTES + plen;
    if (d->off == d->len)
        d->off = d->len = 0;    /* data stays valid: nothing overwrites it */
    return 1;
}

/* Number of NUL-terminated strings that exactly fill p[0..n), or -1 when
 * the last one is unterminated. */
static int count_strs(const unsigned char *p, size_t n)
{
    int k = 0;
    size_t i = 0;
    while (i < n) {
        const unsigned char *z = memchr(p + i, '\0', n - i);
        if (z == NULL)
            return -1;
        i = (size_t)(z - p) + 1;
        k++;
    }
    return k;
}

void mproto_optneg_clear(mproto_optneg_t *o)
{
    for (int i = 0; i < MPROTO_NSTAGES; i++)
        free(o->macros[i]);
    memset(o, 0, sizeof *o);
}

int mproto_parse_optneg(const mproto_pkt_t *pkt, mproto_optneg_t *o,
                        char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    if (pkt->cmd != SMFIC_OPTNEG || pkt->len < MILTER_OPTLEN) {
        snprintf(err, errlen, "expected OPTNEG reply of >= %d bytes, got "
                 "command 0x%02x with %zu bytes", MILTER_OPTLEN,
                 (unsigned char)pkt->cmd, pkt->len);
        return -1;
    }
    o->version = get_u32(pkt->data);
    o->actions = get_u32(pkt->data + 4);
    o->protocol = get_u32(pkt->data + 8);
    size_t i = MILTER_OPTLEN;
    while (i < pkt->len) {
        const unsigned char *z = NULL;
        uint32_t stage = 0;
        if (pkt->len - i > 4) {
            stage = get_u32(pkt->data + i);
            z = memchr(pkt->data + i + 4, '\0', pkt->len - i - 4);
        }
        if (z == NULL || stage >= MPROTO_NSTAGES ||
            o->macros[stage] != NULL) {
            snprintf(err, errlen, "malformed macro list at offset %zu of "
                     "OPTNEG reply", i);
            mproto_optneg_clear(o);
            return -1;
        }
        o->macros[stage] = strdup((const char *)pkt->data + i + 4);
        if (o->macros[stage] == NULL) {
            snprintf(err, errlen, "out of memory");
            mproto_optneg_clear(o);
            return -1;
        }
        i = (size_t)(z - pkt->data) + 1;
    }
    return 0;
}

int mproto_reply_is_final(char cmd)
{
    return strchr("acdrtysf4", cmd) != NULL && cmd != '\0';
}

/* Replies that carry a uint32 header index before name\0value\0. */
static int check_indexed(const mproto_pkt_t *pkt)
{
    return pkt->len >= 4 && count_strs(pkt->data + 4, pkt->len - 4) == 2;
}

static int check_replycode(const mproto_pkt_t *pkt)
{
    const unsigned char *p = pkt->data;
    if (count_strs(p, pkt->len) != 1 || pkt->len < 4)
        return 0;
    return (p[0] == '4' || p[0] == '5') && p[1] >= '0' && p[1] <= '9' &&
           p[2] >= '0' && p[2] <= '9' && (p[3] == ' ' || p[3] == '-' ||
                                          p[3] == '\0');
}

static int shape_ok(const mproto_pkt_t *pkt)
{
    int k;
    switch (pkt->cmd) {
    case SMFIR_ACCEPT: case SMFIR_CONTINUE: case SMFIR_DISCARD:
    case SMFIR_REJECT: case SMFIR_TEMPFAIL: case SMFIR_SKIP:
    case SMFIR_CONN_FAIL: case SMFIR_SHUTDOWN: case SMFIR_PROGRESS:
        return pkt->len == 0;
    case SMFIR_REPLYCODE:
        return check_replycode(pkt);
    case SMFIR_ADDHEADER:
        return count_strs(pkt->data, pkt->len) == 2;
    case SMFIR_INSHEADER: case SMFIR_CHGHEADER:
        return check_indexed(pkt);
    case SMFIR_REPLBODY:
        return 1;
    case SMFIR_ADDRCPT: case SMFIR_DELRCPT: case SMFIR_QUARANTINE:
        return count_strs(pkt->data, pkt->len) == 1;
    case SMFIR_ADDRCPT_PAR: case SMFIR_CHGFROM:
        k = count_strs(pkt->data, pkt->len);
        return k == 1 || k == 2;
    default:
        return -1;
    }
}

int mproto_reply_check(const mproto_pkt_t *pkt, char *err, size_t errlen)
{
    int r = shape_ok(pkt);
    if (r == 1)
        return 0;
    if (r < 0)
        snprintf(err, errlen, "unknown reply command 0x%02x",
                 (unsigned char)pkt->cmd);
    else
        snprintf(err, errlen, "malformed %s reply (%zu data bytes)",
                 mproto_reply_name(pkt->cmd), pkt->len);
    return -1;
}

static const struct {
    char cmd;
    const char *name;
} reply_names[] = {
    {SMFIR_ACCEPT, "accept"},         {SMFIR_CONTINUE, "continue"},
    {SMFIR_DISCARD, "discard"},       {SMFIR_REJECT, "reject"},
    {SMFIR_TEMPFAIL, "tempfail"},     {SMFIR_REPLYCODE, "replycode"},
    {SMFIR_SKIP, "skip"},             {SMFIR_CONN_FAIL, "connfail"},
    {SMFIR_SHUTDOWN, "shutdown"},     {SMFIR_PROGRESS, "progress"},
    {SMFIR_ADDHEADER, "addheader"},   {SMFIR_INSHEADER, "insheader"},
    {SMFIR_CHGHEADER, "chgheader"},   {SMFIR_REPLBODY, "replbody"},
    {SMFIR_ADDRCPT, "addrcpt"},       {SMFIR_DELRCPT, "delrcpt"},
    {SMFIR_ADDRCPT_PAR, "addrcpt_par"}, {SMFIR_CHGFROM, "chgfrom"},
    {SMFIR_QUARANTINE, "quarantine"}, {SMFIC_OPTNEG, "optneg"},
};

const char *mproto_reply_name(char cmd)
{
    for (size_t i = 0; i < sizeof reply_names / sizeof reply_names[0]; i++)
        if (reply_names[i].cmd == cmd)
            return reply_names[i].name;
    return "unknown";
}

/* Appends p[0..n) to out at *pos, NULs as spaces, other controls as \xNN. */
static void put_escaped(char *out, size_t outlen, size_t *pos,
                        const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n && *pos + 5 < outlen; i++) {
        unsigned char c = p[i];
        if (c == '\0')
            out[(*pos)++] = ' ';
        else if (c < 0x20 || c >= 0x7f)
            *pos += (size_t)snprintf(out + *pos, outlen - *pos, "\\x%02x", c);
        else
            out[(*pos)++] = (char)c;
    }
    out[*pos] = '\0';
}

char *mproto_reply_format(const mproto_pkt_t *pkt, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    int n = snprintf(out, outlen, "%s", mproto_reply_name(pkt->cmd));
    size_t pos = n < 0 ? 0 : ((size_t)n < outlen ? (size_t)n : outlen - 1);
    const unsigned char *p = pkt->data;
    size_t len = pkt->len;
    if ((pkt->cmd == SMFIR_INSHEADER || pkt->cmd == SMFIR_CHGHEADER) &&
        len >= 4) {
        n = snprintf(out + pos, outlen - pos, " #%lu",
                     (unsigned long)get_u32(p));
        pos += n > 0 && (size_t)n < outlen - pos ? (size_t)n : 0;
        p += 4;
        len -= 4;
    }
    if (pkt->cmd == SMFIR_REPLBODY) {
        snprintf(out + pos, outlen - pos, " (%zu bytes)", len);
        return out;
    }
    if (len > 0 && pos + 1 < outlen) {
        out[pos++] = ' ';
        /* name\0value\0 reads as "name: value" */
        if (pkt->cmd == SMFIR_ADDHEADER || pkt->cmd == SMFIR_INSHEADER ||
            pkt->cmd == SMFIR_CHGHEADER) {
            size_t nl = strnlen((const char *)p, len);
            put_escaped(out, outlen, &pos, p, nl);
            if (pos + 2 < outlen) {
                out[pos++] = ':';
                out[pos] = '\0';
            }
            p += nl < len ? nl : len;
            len -= nl < len ? nl : len;
        }
        while (len > 0 && p[len - 1] == '\0')
            len--;
        put_escaped(out, outlen, &pos, p, len);
    }
    out[pos] = '\0';
    return out;
}
