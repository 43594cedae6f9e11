/*
 * awalk.c - walks a message's MIME tree with GMime, types each part's
 * decoded content and lists archives (acontent.c), within limits; and
 * rewrites the message for the strip action.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "acontent.h"
#include "awalk.h"

struct awalk {
    awalk_limits_t lim;
    acontent_t *content;
};

/* Where a MIME part hangs, so strip can replace it. */
typedef struct node {
    GMimeObject *obj;           /* NULL for archive entries */
    GObject *parent;            /* GMimeMultipart or GMimeMessage */
    int index;                  /* in a multipart; -1 under a message */
} node_t;

struct awalk_result {
    const awalk_t *w;
    awalk_item_t *items;
    node_t *nodes;
    size_t n, cap;
    unsigned budget;            /* items left */
    unsigned flags;
    char warning[160];
    GMimeMessage *msg;
    GPtrArray *keep;            /* replaced objects, alive until free */
    GByteArray *borrowed;       /* the caller's message, read in place */
    struct timespec start;
    bool stripped;
};

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
    g_mime_init();
}

awalk_t *awalk_new(const awalk_limits_t *limits, char *err, size_t errlen)
{
    awalk_t *w = calloc(1, sizeof(*w));

    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_once(&gmime_once, gmime_start);
    w->lim = *limits;
    w->content = acontent_new(err, errlen);
    if (w->content == NULL) {
        free(w);
        return NULL;
    }
    return w;
}

void awalk_free(awalk_t *w)
{
    if (w == NULL)
        return;
    acontent_free(w->content);
    free(w);
}

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - t0->tv_sec) * 1e3 + (double) (now.tv_nsec - t0->tv_nsec) / 1e6;
}

static bool over_time(awalk_result_t *r)
{
    if (r->w->lim.max_ms > 0 && elapsed_ms(&r->start) > r->w->lim.max_ms) {
        r->flags |= AWALK_LIMIT;
        return true;
    }
    return false;
}

/* A new zeroed item; -1 when out of memory. The budget is the caller's. */
static int add_item(awalk_result_t *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        awalk_item_t *it = realloc(r->items, cap * sizeof(*it));
        if (it == NULL)
            return -1;
        r->items = it;
        node_t *nd = realloc(r->nodes, cap * sizeof(*nd));
        if (nd == NULL)
            return -1;
        r->nodes = nd;
        r->cap = cap;
    }
    memset(&r->items[r->n], 0, sizeof(r->items[0]));
    memset(&r->nodes[r->n], 0, sizeof(r->nodes[0]));
    return (int) r->n++;
}

/* Severity of GMime's complaints: which ones make parsers disagree. */
static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
                       gpointer data)
{
    awalk_result_t *r = data;
    bool suspect = code == GMIME_CRIT_INVALID_HEADER_NAME
                   || code == GMIME_CRIT_CONFLICTING_HEADER
                   || code == GMIME_CRIT_CONFLICTING_PARAMETER
                   || code == GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY
                   || code == GMIME_CRIT_NESTING_OVERFLOW
                   || code == GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT;
    bool malformed = code == GMIME_WARN_MALFORMED_MULTIPART
                     || code == GMIME_WARN_TRUNCATED_MESSAGE
                     || code == GMIME_WARN_MALFORMED_MESSAGE
                     || code == GMIME_WARN_INVALID_CONTENT_TYPE
                     || code == GMIME_WARN_INVALID_RFC2047_HEADER_VALUE
                     || code == GMIME_WARN_INVALID_PARAMETER
                     || code == GMIME_WARN_PART_WITHOUT_CONTENT;

    if (!suspect && !malformed)
        return;
    if (suspect)
        r->flags |= AWALK_SUSPECT;
    r->flags |= AWALK_MALFORMED;
    if (r->warning[0] == '\0' || suspect)
        snprintf(r->warning, sizeof(r->warning), "%s at byte %lld (%.60s)",
                 suspect ? "conflicting or missing MIME structure" : "malformed MIME",
                 (long long) offset, item ? item : "");
}

static void child_path(char *out, const char *prefix, int i)
{
    if (prefix[0] == '\0')
        snprintf(out, AWALK_MAX_PATH, "%d", i);
    else
        snprintf(out, AWALK_MAX_PATH, "%s.%d", prefix, i);
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char) (*s - 'A' + 'a');
}

/* Declared type, file name and disposition of a MIME object. */
static void describe(GMimeObject *obj, awalk_item_t *it)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    const char *name = NULL, *disp = g_mime_object_get_disposition(obj);

    if (ct != NULL) {
        char *t = g_mime_content_type_get_mime_type(ct);
        snprintf(it->declared, sizeof(it->declared), "%s", t ? t : "");
        g_free(t);
        lower(it->declared);
    }
    if (GMIME_IS_PART(obj))
        name = g_mime_part_get_filename(GMIME_PART(obj));
    if (name == NULL)
        name = g_mime_object_get_content_disposition_parameter(obj, "filename");
    if (name == NULL)
        name = g_mime_object_get_content_type_parameter(obj, "name");
    snprintf(it->name, sizeof(it->name), "%s", name ? name : "");
    const char *alt = g_mime_object_get_content_type_parameter(obj, "name");
    if (alt != NULL && strcmp(alt, it->name) != 0)
        snprintf(it->altname, sizeof(it->altname), "%s", alt);
    it->attachment = it->name[0] != '\0'
                     || (disp != NULL && g_ascii_strcasecmp(disp, "attachment") == 0);
}

typedef struct entry_ctx {
    awalk_result_t *r;
    int part;
} entry_ctx_t;

static int on_entry(void *arg, const acontent_entry_t *e)
{
    entry_ctx_t *ec = arg;
    awalk_result_t *r = ec->r;
    int i = add_item(r), parent = e->parent;

    if (i < 0)
        return -1;
    awalk_item_t *it = &r->items[i];
    it->entry = true;
    it->part = ec->part;
    snprintf(it->path, sizeof(it->path), "%.40s/%u", r->items[parent].path, e->index);
    snprintf(it->name, sizeof(it->name), "%s", e->name);
    snprintf(it->true_type, sizeof(it->true_type), "%s", e->type);
    it->size = e->size;
    it->depth = e->depth;
    it->encrypted = e->encrypted;
    it->archive = acontent_is_archive(e->type);
    return i;
}

/* The decoded content of a part as a stream to read from, built the
 * way g_mime_data_wrapper_write_to_stream() decodes (the same filter on
 * the same substream of the message), so the bytes are the same; NULL
 * when the part has no content. Caller unrefs and then resets *RAW. */
static GMimeStream *decoded(GMimeObject *obj, GMimeStream **raw)
{
    GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(obj));

    /* GMime 3.2 hands the stream out without a reference: take one. */
    *raw = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
    if (*raw == NULL)
        return NULL;
    g_object_ref(*raw);
    g_mime_stream_reset(*raw);
    GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(dw);
    if (enc != GMIME_CONTENT_ENCODING_BASE64 && enc != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
        && enc != GMIME_CONTENT_ENCODING_UUENCODE)
        return g_object_ref(*raw);
    GMimeStream *fs = g_mime_stream_filter_new(*raw);
    GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
    g_object_unref(f);
    return fs;
}

/* Reads until BUF holds CAP bytes or the stream ends; the count. */
static size_t read_full(GMimeStream *st, unsigned char *buf, size_t cap)
{
    size_t got = 0;

    while (got < cap) {
        ssize_t n = g_mime_stream_read(st, (char *) buf + got, cap - got);
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    return got;
}

/* The message text itself: a part without a file name or attachment
 * disposition, declared text/plain or text/html. Mail programs show it
 * rather than save it, so its true type is taken as declared; libmagic
 * spends a millisecond or two on any text, for nothing here. */
static bool inline_text(const awalk_item_t *it)
{
    return !it->attachment && (strcmp(it->declared, "text/plain") == 0
                               || strcmp(it->declared, "text/html") == 0);
}

/* Lists the archive in part I: its whole decoded content is needed, the
 * first HEADLEN bytes of which are in HEAD. */
static int list_archive(awalk_result_t *r, int i, GMimeStream *st, const unsigned char *head,
                        size_t headlen)
{
    GByteArray *all = g_byte_array_sized_new((guint) headlen * 2);
    unsigned char chunk[16384];
    size_t n;
    unsigned cf = 0;
    entry_ctx_t ec = { r, i };
    acontent_limits_t al = { r->w->lim.max_archive_depth, r->w->lim.max_archive_read,
                             &r->budget };
    char type[ACONTENT_MAX_TYPE];

    g_byte_array_append(all, head, (guint) headlen);
    while ((n = read_full(st, chunk, sizeof(chunk))) > 0)
        g_byte_array_append(all, chunk, (guint) n);
    r->items[i].size = all->len;
    r->items[i].archive = true;
    snprintf(type, sizeof(type), "%s", r->items[i].true_type);
    int rc = acontent_list(r->w->content, all->data, all->len, type, i, &al, on_entry, &ec, &cf);
    r->items[i].encrypted = (cf & ACONTENT_ENCRYPTED) != 0;
    r->items[i].unreadable = (cf & ACONTENT_UNREADABLE) != 0;
    if (cf & ACONTENT_LIMIT)
        r->flags |= AWALK_LIMIT;
    g_byte_array_unref(all);
    return rc;
}

static inline unsigned is_base64(unsigned char c)
{
    return (unsigned) ((unsigned char) (c - 'A') < 26) + (unsigned) ((unsigned char) (c - 'a') < 26)
           + (unsigned) ((unsigned char) (c - '0') < 10) + (c == '+') + (c == '/');
}

/* The decoded size of base64 text, from its characters alone: every
 * 4 alphabet characters are 3 bytes, a final group of 2 or 3 gives 1 or
 * 2, and '=' padding gives none. Decoding 5 MB only to learn its size
 * costs several times this count, which the compiler turns into vector
 * compares when blocks have a fixed length. */
static uint64_t base64_size(GMimeStream *raw)
{
    unsigned char chunk[16384];
    uint64_t n = 0;
    size_t got, k;

    g_mime_stream_reset(raw);
    while ((got = read_full(raw, chunk, sizeof(chunk))) > 0) {
        for (k = 0; k + 64 <= got; k += 64) {
            unsigned char sum = 0;      /* at most 64 */
            for (size_t j = 0; j < 64; j++)
                sum = (unsigned char) (sum + is_base64(chunk[k + j]));
            n += sum;
        }
        for (; k < got; k++)
            n += is_base64(chunk[k]);
    }
    return n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
}

/* Types a part from the first ACONTENT_MAGIC_BYTES of its decoded
 * content (all libmagic is shown) and only counts the rest: only an
 * archive needs its whole content. Base64, nearly every attachment,
 * is counted without decoding; other encodings are decoded through a
 * small buffer. A 5 MB attachment so costs 256 KB of memory and one
 * cheap pass over its text. */
static int content(awalk_result_t *r, int i, GMimeObject *obj)
{
    GMimeStream *raw, *st = decoded(obj, &raw);
    awalk_item_t *it = &r->items[i];
    unsigned char *head;
    size_t headlen, n;
    int rc = 0;

    if (st == NULL) {
        snprintf(it->true_type, sizeof(it->true_type), "%s",
                 inline_text(it) ? it->declared : "application/x-empty");
        return 0;
    }
    head = malloc(ACONTENT_MAGIC_BYTES);
    if (head == NULL) {
        rc = -1;
        goto out;
    }
    headlen = read_full(st, head, ACONTENT_MAGIC_BYTES);
    it->size = headlen;
    if (inline_text(it))
        snprintf(it->true_type, sizeof(it->true_type), "%s", it->declared);
    else
        acontent_type(r->w->content, head, headlen, it->true_type, sizeof(it->true_type));
    if (headlen == ACONTENT_MAGIC_BYTES && !acontent_is_archive(it->true_type)) {
        unsigned char chunk[16384];
        if (st != raw && g_mime_part_get_content_encoding(GMIME_PART(obj))
                         == GMIME_CONTENT_ENCODING_BASE64)
            it->size = base64_size(raw);
        else
            while ((n = read_full(st, chunk, sizeof(chunk))) > 0)
                it->size += n;
    } else if (acontent_is_archive(it->true_type)) {
        rc = list_archive(r, i, st, head, headlen);
    }
    free(head);
out:
    g_object_unref(st);
    g_mime_stream_reset(raw);
    g_object_unref(raw);
    return rc;
}

static int leaf(awalk_result_t *r, GMimeObject *obj, GObject *parent, int index,
                const char *path)
{
    int i;

    if (r->budget == 0) {
        r->flags |= AWALK_LIMIT;
        return 0;
    }
    r->budget--;
    if ((i = add_item(r)) < 0)
        return -1;
    r->nodes[i] = (node_t) { obj, parent, index };
    awalk_item_t *it = &r->items[i];
    it->part = i;
    snprintf(it->path, sizeof(it->path), "%s", path);
    describe(obj, it);
    if (GMIME_IS_MESSAGE_PART(obj)) {
        snprintf(it->true_type, sizeof(it->true_type), "message/rfc822");
        return 0;
    }
    if (!GMIME_IS_PART(obj))
        return 0;
    return content(r, i, obj);
}

static int walk_object(awalk_result_t *r, GMimeObject *obj, GObject *parent, int index,
                       const char *path, unsigned depth);

/* The root of a message: its parts are PREFIX.1, PREFIX.2, ... */
static int walk_root(awalk_result_t *r, GMimeMessage *msg, const char *prefix,
                     unsigned depth)
{
    GMimeObject *root = g_mime_message_get_mime_part(msg);
    char path[AWALK_MAX_PATH];

    if (root == NULL)
        return 0;
    if (!GMIME_IS_MULTIPART(root)) {
        child_path(path, prefix, 1);
        return walk_object(r, root, G_OBJECT(msg), -1, path, depth);
    }
    if (depth >= r->w->lim.max_depth) {
        r->flags |= AWALK_LIMIT;
        return 0;
    }
    GMimeMultipart *mp = GMIME_MULTIPART(root);
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; i++) {
        child_path(path, prefix, i + 1);
        if (walk_object(r, g_mime_multipart_get_part(mp, i), G_OBJECT(mp), i, path,
                        depth + 1) < 0)
            return -1;
    }
    return 0;
}

static int walk_object(awalk_result_t *r, GMimeObject *obj, GObject *parent, int index,
                       const char *path, unsigned depth)
{
    char sub[AWALK_MAX_PATH];

    if (over_time(r))
        return 0;
    if (GMIME_IS_MULTIPART(obj)) {
        if (depth >= r->w->lim.max_depth) {
            r->flags |= AWALK_LIMIT;
            return 0;
        }
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++) {
            child_path(sub, path, i + 1);
            if (walk_object(r, g_mime_multipart_get_part(mp, i), G_OBJECT(mp), i, sub,
                            depth + 1) < 0)
                return -1;
        }
        return 0;
    }
    if (leaf(r, obj, parent, index, path) < 0)
        return -1;
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (inner == NULL)
            return 0;
        if (depth >= r->w->lim.max_depth) {
            r->flags |= AWALK_LIMIT;
            return 0;
        }
        return walk_root(r, inner, path, depth + 1);
    }
    return 0;
}

/* GMime's memory stream over the caller's bytes without copying them
 * (a 5 MB copy and its page faults per message otherwise): the array
 * borrows MSG, the stream does not own the array, and
 * awalk_result_free() frees only the array's header. The parser only
 * reads; strip writes a new stream. */
static GMimeStream *borrow(awalk_result_t *r, const void *msg, size_t len)
{
    if (len > G_MAXUINT)
        return g_mime_stream_mem_new_with_buffer(msg, len);
    r->borrowed = g_byte_array_new_take((guint8 *) (uintptr_t) msg, len);
    GMimeStream *st = g_mime_stream_mem_new_with_byte_array(r->borrowed);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
    return st;
}

static GMimeMessage *parse(awalk_result_t *r, const void *msg, size_t len)
{
    GMimeStream *st = borrow(r, msg, len);
    GMimeParser *p = g_mime_parser_new_with_stream(st);
    GMimeParserOptions *po = g_mime_parser_options_new();
    GMimeMessage *m;

    /* Lenient, as mail clients are: an attacker aims at what they show. */
    g_mime_parser_options_set_rfc2047_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_warning_callback(po, on_warning, r);
    m = g_mime_parser_construct_message(p, po);
    g_mime_parser_options_free(po);
    g_object_unref(p);
    g_object_unref(st);
    return m;
}

awalk_result_t *awalk_run(awalk_t *w, const void *msg, size_t len)
{
    awalk_result_t *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->w = w;
    r->budget = w->lim.max_items;
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    r->keep = g_ptr_array_new_with_free_func(g_object_unref);
    r->msg = parse(r, msg, len);
    if (r->msg == NULL) {
        r->flags |= AWALK_NOT_MIME;
        return r;
    }
    if (walk_root(r, r->msg, "", 0) < 0) {
        awalk_result_free(r);
        return NULL;
    }
    return r;
}

void awalk_result_free(awalk_result_t *r)
{
    if (r == NULL)
        return;
    if (r->msg != NULL)
        g_object_unref(r->msg);
    g_ptr_array_free(r->keep, TRUE);
    if (r->borrowed != NULL)
        g_byte_array_free(r->borrowed, FALSE);  /* the bytes are the caller's */
    free(r->items);
    free(r->nodes);
    free(r);
}

size_t awalk_count(const awalk_result_t *r)
{
    return r->n;
}

const awalk_item_t *awalk_item(const awalk_result_t *r, size_t i)
{
    return i < r->n ? &r->items[i] : NULL;
}

unsigned awalk_flags(const awalk_result_t *r)
{
    return r->flags;
}

const char *awalk_warning(const awalk_result_t *r)
{
    return r->warning;
}

static GMimeObject *notice_part(const char *text)
{
    GMimeTextPart *tp = g_mime_text_part_new_with_subtype("plain");

    g_mime_text_part_set_charset(tp, "us-ascii");
    g_mime_text_part_set_text(tp, text);
    g_mime_part_set_content_encoding(GMIME_PART(tp), GMIME_CONTENT_ENCODING_7BIT);
    return GMIME_OBJECT(tp);
}

/* Puts REPL where node ND's part was; the old part stays alive in
 * r->keep because other items' nodes may still point into it. */
static void replace(awalk_result_t *r, const node_t *nd, GMimeObject *repl, bool *root)
{
    if (GMIME_IS_MULTIPART(nd->parent)) {
        GMimeObject *old = g_mime_multipart_replace(GMIME_MULTIPART(nd->parent), nd->index,
                                                    repl);
        if (old != NULL)
            g_ptr_array_add(r->keep, old);
        return;
    }
    GMimeMessage *m = GMIME_MESSAGE(nd->parent);
    GMimeObject *old = g_mime_message_get_mime_part(m);
    if (old != NULL)
        g_ptr_array_add(r->keep, g_object_ref(old));
    g_mime_message_set_mime_part(m, repl);
    if (m == r->msg)
        *root = true;
}

static int write_body(awalk_result_t *r, char **body, size_t *bodylen, char *err,
                      size_t errlen)
{
    GMimeFormatOptions *fo = g_mime_format_options_new();
    GMimeStream *mem = g_mime_stream_mem_new();
    int rc = -1;

    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    if (g_mime_object_write_content_to_stream(g_mime_message_get_mime_part(r->msg), fo,
                                              mem) < 0) {
        snprintf(err, errlen, "cannot write the new body");
    } else {
        GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
        *body = malloc(ba->len ? ba->len : 1);
        if (*body == NULL) {
            snprintf(err, errlen, "out of memory");
        } else {
            if (ba->len > 0)
                memcpy(*body, ba->data, ba->len);
            *bodylen = ba->len;
            rc = 0;
        }
    }
    g_object_unref(mem);
    g_mime_format_options_free(fo);
    return rc;
}

int awalk_strip(awalk_result_t *r, const size_t *idx, const char *const *notices,
                size_t n, char **body, size_t *bodylen, bool *root, char *err,
                size_t errlen)
{
    *root = false;
    *body = NULL;
    *bodylen = 0;
    if (r->msg == NULL || r->stripped) {
        snprintf(err, errlen, "no MIME structure to rewrite");
        return -1;
    }
    r->stripped = true;
    bool *done = calloc(r->n ? r->n : 1, sizeof(bool));
    if (done == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        if (idx[k] >= r->n)
            continue;
        int p = r->items[idx[k]].part;
        if (done[p] || r->nodes[p].obj == NULL)
            continue;
        done[p] = true;
        GMimeObject *np = notice_part(notices[k]);
        replace(r, &r->nodes[p], np, root);
        g_object_unref(np);
    }
    free(done);
    return write_body(r, body, bodylen, err, errlen);
}
