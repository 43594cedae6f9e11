/* fuzz_dns_rdata.c - the DNS rdata decoders of common/dns on arbitrary
 * bytes: TXT character-strings and uncompressed domain names (MX, PTR)
 * come from the network and must never be read past their length. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size copy so the sanitizer sees any overread */
    unsigned char *rd = malloc(size > 0 ? size : 1);
    if (rd == NULL)
        return 0;
    memcpy(rd, data, size);
    char buf[1100];
    /* the first byte picks the output room, to exercise "too small" */
    size_t room = size > 0 ? (size_t) data[0] * 4 + 1 : sizeof buf;
    if (room > sizeof buf)
        room = sizeof buf;
    int n = dnsr_rdata_txt(rd, size, buf, room);
    if (n >= 0 && (size_t) n >= room)
        abort();
    n = dnsr_rdata_name(rd, size, buf, room);
    if (n >= 0 && ((size_t) n >= room || buf[n] != '\0'))
        abort();
    free(rd);
    return 0;
}
