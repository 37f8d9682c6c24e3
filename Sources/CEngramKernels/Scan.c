// Block scans: one query against many consecutive rows, the exact scan's inner loop. Four rows
// share each load of the query and run four independent accumulator chains, so a row costs its
// loads rather than a chain of dependent FMAs, a call and a horizontal sum of its own.
#include "CEngramKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f")))
#define INLINE __attribute__((always_inline)) static inline

// One chunk of a row's distance: x·q (accumulated, negated at the end) or (x−q)².
#define CHUNK512(acc, x, qv, l2) \
    do { __m512 xv_ = (x); if (l2) { xv_ = _mm512_sub_ps(xv_, qv); acc = _mm512_fmadd_ps(xv_, xv_, acc); } \
         else acc = _mm512_fmadd_ps(xv_, qv, acc); } while (0)
#define CHUNK256(acc, x, qv, l2) \
    do { __m256 xv_ = (x); if (l2) { xv_ = _mm256_sub_ps(xv_, qv); acc = _mm256_fmadd_ps(xv_, xv_, acc); } \
         else acc = _mm256_fmadd_ps(xv_, qv, acc); } while (0)

AVX512 INLINE void scan_avx512(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out, int l2) {
    const size_t full = n & ~(size_t)15;
    const __mmask16 tail = (__mmask16)((1u << (n - full)) - 1);
    const float sign = l2 ? 1.0f : -1.0f;
    size_t r = 0;
    for (; r + 4 <= count; r += 4) {
        const float *x0 = rows + r * stride, *x1 = x0 + stride, *x2 = x1 + stride, *x3 = x2 + stride;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        for (size_t i = 0; i < full; i += 16) {
            const __m512 qv = _mm512_loadu_ps(q + i);
            CHUNK512(s0, _mm512_loadu_ps(x0 + i), qv, l2);
            CHUNK512(s1, _mm512_loadu_ps(x1 + i), qv, l2);
            CHUNK512(s2, _mm512_loadu_ps(x2 + i), qv, l2);
            CHUNK512(s3, _mm512_loadu_ps(x3 + i), qv, l2);
        }
        if (tail) {
            const __m512 qv = _mm512_maskz_loadu_ps(tail, q + full);
            CHUNK512(s0, _mm512_maskz_loadu_ps(tail, x0 + full), qv, l2);
            CHUNK512(s1, _mm512_maskz_loadu_ps(tail, x1 + full), qv, l2);
            CHUNK512(s2, _mm512_maskz_loadu_ps(tail, x2 + full), qv, l2);
            CHUNK512(s3, _mm512_maskz_loadu_ps(tail, x3 + full), qv, l2);
        }
        out[r] = sign * _mm512_reduce_add_ps(s0);
        out[r + 1] = sign * _mm512_reduce_add_ps(s1);
        out[r + 2] = sign * _mm512_reduce_add_ps(s2);
        out[r + 3] = sign * _mm512_reduce_add_ps(s3);
    }
    for (; r < count; r++) out[r] = l2 ? engram_l2sq_avx512(q, rows + r * stride, n) : engram_negdot_avx512(q, rows + r * stride, n);
}

AVX2 INLINE float sum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

AVX2 INLINE void scan_avx2(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out, int l2) {
    const size_t full = n & ~(size_t)7;
    const float sign = l2 ? 1.0f : -1.0f;
    size_t r = 0;
    for (; r + 4 <= count; r += 4) {
        const float *x[4] = {rows + r * stride, rows + (r + 1) * stride, rows + (r + 2) * stride, rows + (r + 3) * stride};
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        for (size_t i = 0; i < full; i += 8) {
            const __m256 qv = _mm256_loadu_ps(q + i);
            CHUNK256(s0, _mm256_loadu_ps(x[0] + i), qv, l2);
            CHUNK256(s1, _mm256_loadu_ps(x[1] + i), qv, l2);
            CHUNK256(s2, _mm256_loadu_ps(x[2] + i), qv, l2);
            CHUNK256(s3, _mm256_loadu_ps(x[3] + i), qv, l2);
        }
        float d[4] = {sum256(s0), sum256(s1), sum256(s2), sum256(s3)};
        for (int j = 0; j < 4; j++) {
            for (size_t i = full; i < n; i++) {
                const float t = l2 ? x[j][i] - q[i] : x[j][i] * q[i];
                d[j] += l2 ? t * t : t;
            }
            out[r + j] = sign * d[j];
        }
    }
    for (; r < count; r++) out[r] = l2 ? engram_l2sq_avx2(q, rows + r * stride, n) : engram_negdot_avx2(q, rows + r * stride, n);
}

AVX512 void engram_scan_negdot_avx512(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out) {
    scan_avx512(q, rows, stride, n, count, out, 0);
}
AVX512 void engram_scan_l2sq_avx512(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out) {
    scan_avx512(q, rows, stride, n, count, out, 1);
}
AVX2 void engram_scan_negdot_avx2(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out) {
    scan_avx2(q, rows, stride, n, count, out, 0);
}
AVX2 void engram_scan_l2sq_avx2(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out) {
    scan_avx2(q, rows, stride, n, count, out, 1);
}

// Code dots of the rows `slots` names (graph neighbours: scattered rows), four at a time: each
// chunk of the query is loaded (and, on AVX2, widened) once for four rows.
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

VNNI void engram_dots_u8s8_vnni(const int8_t *q, const uint8_t *codes, const uint32_t *slots, size_t count, size_t n, int32_t *out) {
    const size_t full = n & ~(size_t)63;
    const __mmask64 tail = (__mmask64)((n - full) == 0 ? 0 : (~0ULL >> (64 - (n - full))));
    size_t j = 0;
    for (; j + 4 <= count; j += 4) {
        const uint8_t *x0 = codes + (size_t)slots[j] * n, *x1 = codes + (size_t)slots[j + 1] * n;
        const uint8_t *x2 = codes + (size_t)slots[j + 2] * n, *x3 = codes + (size_t)slots[j + 3] * n;
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512(), s2 = _mm512_setzero_si512(), s3 = _mm512_setzero_si512();
        for (size_t i = 0; i < full; i += 64) {
            const __m512i qv = _mm512_loadu_si512(q + i);
            s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512(x0 + i), qv);
            s1 = _mm512_dpbusd_epi32(s1, _mm512_loadu_si512(x1 + i), qv);
            s2 = _mm512_dpbusd_epi32(s2, _mm512_loadu_si512(x2 + i), qv);
            s3 = _mm512_dpbusd_epi32(s3, _mm512_loadu_si512(x3 + i), qv);
        }
        if (tail) {
            const __m512i qv = _mm512_maskz_loadu_epi8(tail, q + full);
            s0 = _mm512_dpbusd_epi32(s0, _mm512_maskz_loadu_epi8(tail, x0 + full), qv);
            s1 = _mm512_dpbusd_epi32(s1, _mm512_maskz_loadu_epi8(tail, x1 + full), qv);
            s2 = _mm512_dpbusd_epi32(s2, _mm512_maskz_loadu_epi8(tail, x2 + full), qv);
            s3 = _mm512_dpbusd_epi32(s3, _mm512_maskz_loadu_epi8(tail, x3 + full), qv);
        }
        out[j] = _mm512_reduce_add_epi32(s0);
        out[j + 1] = _mm512_reduce_add_epi32(s1);
        out[j + 2] = _mm512_reduce_add_epi32(s2);
        out[j + 3] = _mm512_reduce_add_epi32(s3);
    }
    for (; j < count; j++) out[j] = engram_dot_u8s8_vnni(codes + (size_t)slots[j] * n, q, n);
}

AVX2 INLINE __m256i madd_u8s8(const uint8_t *x, __m256i q16) {
    return _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)x)), q16);
}

AVX2 INLINE int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    return _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1)));
}

AVX2 void engram_dots_u8s8_avx2(const int8_t *q, const uint8_t *codes, const uint32_t *slots, size_t count, size_t n, int32_t *out) {
    const size_t full = n & ~(size_t)15;
    size_t j = 0;
    for (; j + 4 <= count; j += 4) {
        const uint8_t *x[4] = {codes + (size_t)slots[j] * n, codes + (size_t)slots[j + 1] * n,
                               codes + (size_t)slots[j + 2] * n, codes + (size_t)slots[j + 3] * n};
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256(), s2 = _mm256_setzero_si256(), s3 = _mm256_setzero_si256();
        for (size_t i = 0; i < full; i += 16) {
            const __m256i q16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + i)));
            s0 = _mm256_add_epi32(s0, madd_u8s8(x[0] + i, q16));
            s1 = _mm256_add_epi32(s1, madd_u8s8(x[1] + i, q16));
            s2 = _mm256_add_epi32(s2, madd_u8s8(x[2] + i, q16));
            s3 = _mm256_add_epi32(s3, madd_u8s8(x[3] + i, q16));
        }
        int32_t d[4] = {hsum_epi32(s0), hsum_epi32(s1), hsum_epi32(s2), hsum_epi32(s3)};
        for (int r = 0; r < 4; r++) {
            for (size_t i = full; i < n; i++) d[r] += (int32_t)x[r][i] * (int32_t)q[i];
            out[j + r] = d[r];
        }
    }
    for (; j < count; j++) out[j] = engram_dot_u8s8_avx2(codes + (size_t)slots[j] * n, q, n);
}

#else

void engram_scan_negdot_avx512(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out) { (void)q; (void)rows; (void)stride; (void)n; (void)count; (void)out; }
void engram_scan_l2sq_avx512(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out) { (void)q; (void)rows; (void)stride; (void)n; (void)count; (void)out; }
void engram_scan_negdot_avx2(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out) { (void)q; (void)rows; (void)stride; (void)n; (void)count; (void)out; }
void engram_scan_l2sq_avx2(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out) { (void)q; (void)rows; (void)stride; (void)n; (void)count; (void)out; }
void engram_dots_u8s8_vnni(const int8_t *q, const uint8_t *codes, const uint32_t *slots, size_t count, size_t n, int32_t *out) { (void)q; (void)codes; (void)slots; (void)count; (void)n; (void)out; }
void engram_dots_u8s8_avx2(const int8_t *q, const uint8_t *codes, const uint32_t *slots, size_t count, size_t n, int32_t *out) { (void)q; (void)codes; (void)slots; (void)count; (void)n; (void)out; }

#endif
