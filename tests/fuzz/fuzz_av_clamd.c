/*
 * fuzz_av_clamd.c - the clamd client on arbitrary bytes: the reply
 * parser on its own, and a whole INSTREAM exchange where the first
 * bytes choose the spool and chunk sizes, the next are the message and
 * the rest is what "clamd" answers. Never a crash, never a read past
 * the reply, every result one of the defined ones.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "avclamd.h"
#include "avspool.h"

static void check(const avscan_result_t *r)
{
    if (r->status > AVSCAN_UNSCANNED || strlen(r->name) >= sizeof(r->name)
        || strlen(r->reason) >= sizeof(r->reason))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    avscan_result_t r;
    avspool_t *sp;
    char err[128];
    size_t msglen, chunk;
    int sv[2];

    avclamd_parse_reply((const char *) data, size, &r);
    check(&r);
    if (size < 3)
        return 0;
    /* Small enough that the socket buffer takes the whole stream. */
    msglen = ((size_t) data[0] << 4) % (size - 2);
    chunk = (size_t) data[1] + 1;
    sp = avspool_new(data[2], 8192, "/tmp", err, sizeof(err));
    if (sp == NULL)
        abort();
    avspool_append(sp, data + 3, msglen > size - 3 ? size - 3 : msglen, err, sizeof(err));
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    size_t off = 3 + (msglen > size - 3 ? size - 3 : msglen);
    if (write(sv[1], data + off, size - off) < 0)
        abort();
    shutdown(sv[1], SHUT_WR);
    avclamd_instream(sv[0], sp, chunk, avclamd_now_ms() + 200, &r);
    check(&r);
    close(sv[0]);
    close(sv[1]);
    avspool_free(sp);
    return 0;
}
