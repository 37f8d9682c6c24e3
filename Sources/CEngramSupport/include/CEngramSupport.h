#ifndef ENGRAM_SUPPORT_H
#define ENGRAM_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// XXH64 of `length` bytes (Yann Collet's xxHash, 64-bit): the section and header checksum of the
/// index file format. Runs at several GB/s, so verifying a file is bounded by I/O.
uint64_t engram_xxh64(const void *data, size_t length, uint64_t seed);

/// Reads one byte of every `page`-sized page of `[p, p + bytes)`, so that each is mapped (and read
/// from disk if it has to be): the portable fallback of `MADV_POPULATE_READ`.
static inline void engram_touch_pages(const void *p, size_t bytes, size_t page) {
    const volatile unsigned char *c = (const volatile unsigned char *)p;
    unsigned char sink = 0;
    for (size_t i = 0; i < bytes; i += page) sink ^= c[i];
    (void)sink;
}

#endif
