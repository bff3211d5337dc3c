# CRC-32C in C (../crc32c.h): SSE4.2 `crc32` instruction when the CPU has it, slicing-by-8 otherwise.
# All take and return a finished CRC (pre/post inversion inside), so calls chain: crc of a||b is
# fk_crc32c(fk_crc32c(0, a, la), b, lb). Pure functions; safe without the GIL.
from libc.stdint cimport uint8_t, uint32_t

cdef extern from "crc32c.h" nogil:
    uint32_t fk_crc32c(uint32_t crc, const uint8_t* p, size_t n)
    uint32_t fk_crc32c_portable(uint32_t crc, const uint8_t* p, size_t n)  # table path, for tests
    int fk_crc32c_uses_hw()  # 1 when fk_crc32c runs on the SSE4.2 instruction
