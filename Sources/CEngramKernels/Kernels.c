#include "CEngramKernels.h"
#include <math.h>
#include <string.h>

// Portable IEEE half <-> float conversions (round to nearest even), for CPUs without F16C.
static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
    if (exp == 0) {
        if (mant == 0) bits = sign;
        else {  // subnormal: normalize
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) { mant <<= 1; exp--; }
            bits = sign | (exp << 23) | ((mant & 0x3FF) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7F800000 | (mant << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, mant = x & 0x7FFFFF;
    int32_t exp = (int32_t)((x >> 23) & 0xFF) - 127 + 15;
    if (((x >> 23) & 0xFF) == 0xFF) return (uint16_t)(sign | 0x7C00 | (mant ? 0x200 : 0));
    if (exp >= 31) return (uint16_t)(sign | 0x7C00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp), half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13), rem = mant & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;  // may carry into the exponent: correct
    return (uint16_t)half;
}

void engram_f32_to_f16_scalar(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = float_to_half(src[i]);
}

float engram_negdot_f16_scalar(const float *q, const uint16_t *x, size_t n) {
    float s = 0;
    for (size_t i = 0; i < n; i++) s += q[i] * half_to_float(x[i]);
    return -s;
}

float engram_l2sq_f16_scalar(const float *q, const uint16_t *x, size_t n) {
    float s = 0;
    for (size_t i = 0; i < n; i++) { float d = q[i] - half_to_float(x[i]); s += d * d; }
    return s;
}

static size_t next_candidate_scalar(const float *dots, const float *norms, size_t j, size_t n, float t) {
    for (; j < n; j++) {
        float key = norms ? 2 * dots[j] - norms[j] : dots[j];
        if (key >= t) return j;
    }
    return n;
}

// Portable C, vectorized by the compiler (reassociation allowed for the two reductions).
float engram_code_prepare(const float *q, const float *centers, const float *steps, size_t n, int centred,
                          int8_t *bytes, int32_t *sum, float *offset) {
#pragma clang fp reassociate(on)
    float largest = 0, constant = 0;
    for (size_t d = 0; d < n; d++) {
        const float shifted = centred ? q[d] - centers[d] : q[d];
        constant += centred ? shifted * shifted : -q[d] * centers[d];
        const float w = fabsf(shifted * steps[d]);
        largest = w > largest ? w : largest;
    }
    const float to_bytes = largest > 0 && isfinite(largest) ? 127 / largest : 1;
    int32_t total = 0;
    for (size_t d = 0; d < n; d++) {
        float x = (centred ? q[d] - centers[d] : q[d]) * steps[d] * to_bytes;
        x = fabsf(x) < INFINITY ? x : 0;  // |x| <= 127 by construction, unless a file's scales are extreme
        x += copysignf(0.5f, x);          // round half away from zero, then truncate
        x = x < -127 ? -127 : (x > 127 ? 127 : x);
        const int8_t b = (int8_t)(int32_t)x;
        bytes[d] = b;
        total += b;
    }
    *sum = total;
    *offset = constant;
    return to_bytes;
}

#if defined(__x86_64__)
#include <immintrin.h>

int engram_cpu_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
}

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f")))

AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Four independent accumulators hide the FMA latency; the tail uses a masked load, so any
// dimension works without a scalar loop.
AVX2 float engram_dot_avx2(const float *a, const float *b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    if (i < n) {
        const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), idx);
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask), s1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

AVX2 float engram_l2sq_avx2(const float *a, const float *b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
        s2 = _mm256_fmadd_ps(d2, d2, s2);
        s3 = _mm256_fmadd_ps(d3, d3, s3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(d, d, s0);
    }
    if (i < n) {
        const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), idx);
        __m256 d = _mm256_sub_ps(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask));
        s1 = _mm256_fmadd_ps(d, d, s1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

AVX512 float engram_dot_avx512(const float *a, const float *b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i + 16 <= n; i += 16)
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

AVX2 float engram_negdot_avx2(const float *a, const float *b, size_t n) { return -engram_dot_avx2(a, b, n); }

AVX512 float engram_l2sq_avx512(const float *a, const float *b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    for (; i + 16 <= n; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

AVX512 float engram_negdot_avx512(const float *a, const float *b, size_t n) { return -engram_dot_avx512(a, b, n); }

AVX2 static size_t next_candidate_avx2(const float *dots, const float *norms, size_t j, size_t n, float t) {
    const __m256 tv = _mm256_set1_ps(t), two = _mm256_set1_ps(2);
    for (; j + 8 <= n; j += 8) {
        __m256 key = _mm256_loadu_ps(dots + j);
        if (norms) key = _mm256_fmsub_ps(two, key, _mm256_loadu_ps(norms + j));
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(key, tv, _CMP_GE_OQ));
        if (mask) return j + (size_t)__builtin_ctz((unsigned)mask);
    }
    return next_candidate_scalar(dots, norms, j, n, t);
}

#define F16 __attribute__((target("avx2,fma,f16c")))

F16 static inline __m256 load_f16(const uint16_t *x, size_t i, size_t n) {
    if (i + 8 <= n) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i)));
    uint16_t tail[8] = {0};
    for (size_t j = 0; i + j < n; j++) tail[j] = x[i + j];
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)tail));
}

F16 static inline __m256 load_f32(const float *q, size_t i, size_t n) {
    if (i + 8 <= n) return _mm256_loadu_ps(q + i);
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), idx);
    return _mm256_maskload_ps(q + i, mask);
}

F16 float engram_negdot_f16_avx2(const float *q, const uint16_t *x, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 8))), s1);
    }
    for (; i < n; i += 8) s0 = _mm256_fmadd_ps(load_f32(q, i, n), load_f16(x, i, n), s0);
    return -hsum256(_mm256_add_ps(s0, s1));
}

F16 float engram_l2sq_f16_avx2(const float *q, const uint16_t *x, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(q + i + 8), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 8))));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    for (; i < n; i += 8) {
        __m256 d = _mm256_sub_ps(load_f32(q, i, n), load_f16(x, i, n));
        s0 = _mm256_fmadd_ps(d, d, s0);
    }
    return hsum256(_mm256_add_ps(s0, s1));
}

F16 static void f32_to_f16_f16c(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    if (i < n) {
        float tail[8] = {0};
        uint16_t out[8];
        for (size_t j = 0; i + j < n; j++) tail[j] = src[i + j];
        _mm_storeu_si128((__m128i *)out, _mm256_cvtps_ph(_mm256_loadu_ps(tail), _MM_FROUND_TO_NEAREST_INT));
        for (size_t j = 0; i + j < n; j++) dst[i + j] = out[j];
    }
}

int engram_cpu_has_vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
}

AVX2 static inline int32_t hsum256_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

// Widened to 16 bits first: vpmaddubsw on raw bytes would saturate (255·127·2 > 2^15).
AVX2 int32_t engram_dot_u8s8_avx2(const uint8_t *x, const int8_t *q, size_t n) {
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i x0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + i)));
        __m256i q0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + i)));
        __m256i x1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + i + 16)));
        __m256i q1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + i + 16)));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(x0, q0));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(x1, q1));
    }
    for (; i + 16 <= n; i += 16) {
        __m256i x0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + i)));
        __m256i q0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + i)));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(x0, q0));
    }
    int32_t sum = hsum256_epi32(_mm256_add_epi32(s0, s1));
    for (; i < n; i++) sum += (int32_t)x[i] * (int32_t)q[i];
    return sum;
}

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

VNNI int32_t engram_dot_u8s8_vnni(const uint8_t *x, const int8_t *q, size_t n) {
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512(x + i), _mm512_loadu_si512(q + i));
        s1 = _mm512_dpbusd_epi32(s1, _mm512_loadu_si512(x + i + 64), _mm512_loadu_si512(q + i + 64));
    }
    for (; i + 64 <= n; i += 64) s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512(x + i), _mm512_loadu_si512(q + i));
    if (i < n) {
        __mmask64 m = (__mmask64)((1ULL << (n - i)) - 1);
        s1 = _mm512_dpbusd_epi32(s1, _mm512_maskz_loadu_epi8(m, x + i), _mm512_maskz_loadu_epi8(m, q + i));
    }
    return _mm512_reduce_add_epi32(_mm512_add_epi32(s0, s1));
}

static int cached_level = -1;

static int cpu_level_cached(void) {
    int level = __atomic_load_n(&cached_level, __ATOMIC_RELAXED);
    if (level < 0) {
        level = engram_cpu_level();
        __atomic_store_n(&cached_level, level, __ATOMIC_RELAXED);
    }
    return level;
}

size_t engram_next_candidate(const float *dots, const float *norms, size_t start, size_t n, float t) {
    return cpu_level_cached() >= 1 ? next_candidate_avx2(dots, norms, start, n, t) : next_candidate_scalar(dots, norms, start, n, t);
}

void engram_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    if (cpu_level_cached() >= 1) f32_to_f16_f16c(src, dst, n);
    else engram_f32_to_f16_scalar(src, dst, n);
}

#else

int engram_cpu_level(void) { return 0; }
// Never called: level 0 selects the Swift SIMD kernels.
float engram_dot_avx2(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }
float engram_l2sq_avx2(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }
float engram_dot_avx512(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }
float engram_l2sq_avx512(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }

float engram_negdot_f16_avx2(const float *q, const uint16_t *x, size_t n) { return engram_negdot_f16_scalar(q, x, n); }
float engram_l2sq_f16_avx2(const float *q, const uint16_t *x, size_t n) { return engram_l2sq_f16_scalar(q, x, n); }
void engram_f32_to_f16(const float *src, uint16_t *dst, size_t n) { engram_f32_to_f16_scalar(src, dst, n); }
float engram_negdot_avx2(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }
float engram_negdot_avx512(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }

size_t engram_next_candidate(const float *dots, const float *norms, size_t start, size_t n, float t) {
    return next_candidate_scalar(dots, norms, start, n, t);
}

int engram_cpu_has_vnni(void) { return 0; }
int32_t engram_dot_u8s8_avx2(const uint8_t *x, const int8_t *q, size_t n) { (void)x; (void)q; (void)n; return 0; }
int32_t engram_dot_u8s8_vnni(const uint8_t *x, const int8_t *q, size_t n) { (void)x; (void)q; (void)n; return 0; }

#endif
