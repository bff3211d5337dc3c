/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka's RecordBatch v2.
 *
 * fk_crc32c(crc, p, n) continues a finished CRC: fk_crc32c(fk_crc32c(0, a), b) == crc of a||b, the
 * same convention as java.util.zip.CRC32C and the `crc32c` PyPI package (pre- and post-inverted).
 *
 * Two implementations, chosen once at first use:
 *   - x86-64 with SSE4.2: the `crc32` instruction, 8 bytes per step (compiled with a per-function
 *     target attribute, so the module itself still runs on any x86-64);
 *   - everywhere else: slicing-by-8 over eight 256-entry tables built on first use.
 * Both are pure functions of their input; the only shared state is the dispatch pointer and the
 * tables, written once before their first read (a benign race: every writer stores the same values).
 */
#ifndef FASTKAFKA_CRC32C_H
#define FASTKAFKA_CRC32C_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FK_CRC32C_POLY 0x82F63B78u

static uint32_t fk_crc32c_table[8][256];
static int fk_crc32c_table_ready = 0;

static void fk_crc32c_init_table(void) {
    uint32_t i, j, c;
    for (i = 0; i < 256; i++) {
        c = i;
        for (j = 0; j < 8; j++)
            c = (c & 1) ? (c >> 1) ^ FK_CRC32C_POLY : c >> 1;
        fk_crc32c_table[0][i] = c;
    }
    for (i = 0; i < 256; i++) {
        c = fk_crc32c_table[0][i];
        for (j = 1; j < 8; j++) {
            c = fk_crc32c_table[0][c & 0xFF] ^ (c >> 8);
            fk_crc32c_table[j][i] = c;
        }
    }
    fk_crc32c_table_ready = 1;
}

/* Slicing-by-8 on the inverted register (no pre/post inversion here). */
static uint32_t fk_crc32c_sw(uint32_t c, const uint8_t *p, size_t n) {
    uint64_t w;
    if (!fk_crc32c_table_ready)
        fk_crc32c_init_table();
    while (n && ((uintptr_t)p & 7)) {
        c = fk_crc32c_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
        n--;
    }
#if !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    /* the eight-table step reads a little-endian word; big-endian hosts take the byte loop */
    while (n >= 8) {
        memcpy(&w, p, 8);
        w ^= c;
        c = fk_crc32c_table[7][w & 0xFF] ^ fk_crc32c_table[6][(w >> 8) & 0xFF] ^
            fk_crc32c_table[5][(w >> 16) & 0xFF] ^ fk_crc32c_table[4][(w >> 24) & 0xFF] ^
            fk_crc32c_table[3][(w >> 32) & 0xFF] ^ fk_crc32c_table[2][(w >> 40) & 0xFF] ^
            fk_crc32c_table[1][(w >> 48) & 0xFF] ^ fk_crc32c_table[0][w >> 56];
        p += 8;
        n -= 8;
    }
#endif
    while (n--)
        c = fk_crc32c_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define FK_CRC32C_HAVE_HW 1

__attribute__((target("sse4.2")))
static uint32_t fk_crc32c_hw(uint32_t c, const uint8_t *p, size_t n) {
    uint64_t c64, w;
    while (n && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8(c, *p++);
        n--;
    }
    c64 = c;
    while (n >= 8) {
        memcpy(&w, p, 8);
        c64 = _mm_crc32_u64(c64, w);
        p += 8;
        n -= 8;
    }
    c = (uint32_t)c64;
    while (n--)
        c = _mm_crc32_u8(c, *p++);
    return c;
}
#else
#define FK_CRC32C_HAVE_HW 0
#endif

typedef uint32_t (*fk_crc32c_fn)(uint32_t, const uint8_t *, size_t);
static fk_crc32c_fn fk_crc32c_impl = NULL;

static fk_crc32c_fn fk_crc32c_select(void) {
#if FK_CRC32C_HAVE_HW
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2"))
        return fk_crc32c_hw;
#endif
    fk_crc32c_init_table();
    return fk_crc32c_sw;
}

/* CRC-32C of p[0:n], continuing from a finished CRC `crc` (0 to start). */
static inline uint32_t fk_crc32c(uint32_t crc, const uint8_t *p, size_t n) {
    if (fk_crc32c_impl == NULL)
        fk_crc32c_impl = fk_crc32c_select();
    return ~fk_crc32c_impl(~crc, p, n);
}

/* The portable path, whatever the CPU: lets tests compare both implementations. */
static inline uint32_t fk_crc32c_portable(uint32_t crc, const uint8_t *p, size_t n) {
    return ~fk_crc32c_sw(~crc, p, n);
}

/* 1 when fk_crc32c uses the SSE4.2 instruction. */
static inline int fk_crc32c_uses_hw(void) {
    if (fk_crc32c_impl == NULL)
        fk_crc32c_impl = fk_crc32c_select();
#if FK_CRC32C_HAVE_HW
    return fk_crc32c_impl == fk_crc32c_hw;
#else
    return 0;
#endif
}

#endif /* FASTKAFKA_CRC32C_H */
