# Big-endian loads and stores on raw pointers, shared by the native modules (Kafka's wire and
# on-disk formats are big-endian). Callers check bounds; these never do.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

cdef inline int64_t _i64(const uint8_t* p) nogil:
    cdef uint64_t v = 0
    cdef int i
    for i in range(8):
        v = (v << 8) | p[i]
    return <int64_t>v


cdef inline int32_t _i32(const uint8_t* p) nogil:
    return <int32_t>((<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3])


cdef inline int16_t _i16(const uint8_t* p) nogil:
    return <int16_t>((p[0] << 8) | p[1])


cdef inline void _put_i64(uint8_t* p, int64_t v) nogil:
    cdef uint64_t u = <uint64_t>v
    cdef int i
    for i in range(8):
        p[7 - i] = <uint8_t>(u >> (8 * i))


cdef inline void _put_i32(uint8_t* p, int32_t v) nogil:
    cdef uint32_t u = <uint32_t>v
    p[0] = <uint8_t>(u >> 24); p[1] = <uint8_t>(u >> 16); p[2] = <uint8_t>(u >> 8); p[3] = <uint8_t>u


cdef inline void _put_i16(uint8_t* p, int16_t v) nogil:
    p[0] = <uint8_t>((<uint16_t>v) >> 8); p[1] = <uint8_t>v
