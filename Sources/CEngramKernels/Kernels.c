#include "CEngramKernels.h"

static size_t next_candidate_scalar(const float *dots, const float *norms, size_t j, size_t n, float t) {
    for (; j < n; j++) {
        float key = norms ? 2 * dots[j] - norms[j] : dots[j];
        if (key >= t) return j;
    }
    return n;
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

static int cached_level = -1;

size_t engram_next_candidate(const float *dots, const float *norms, size_t start, size_t n, float t) {
    int level = __atomic_load_n(&cached_level, __ATOMIC_RELAXED);
    if (level < 0) {
        level = engram_cpu_level();
        __atomic_store_n(&cached_level, level, __ATOMIC_RELAXED);
    }
    return level >= 1 ? next_candidate_avx2(dots, norms, start, n, t) : next_candidate_scalar(dots, norms, start, n, t);
}

#else

int engram_cpu_level(void) { return 0; }
// Never called: level 0 selects the Swift SIMD kernels.
float engram_dot_avx2(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }
float engram_l2sq_avx2(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }
float engram_dot_avx512(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }
float engram_l2sq_avx512(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }

float engram_negdot_avx2(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }
float engram_negdot_avx512(const float *a, const float *b, size_t n) { (void)a; (void)b; (void)n; return 0; }

size_t engram_next_candidate(const float *dots, const float *norms, size_t start, size_t n, float t) {
    return next_candidate_scalar(dots, norms, start, n, t);
}

#endif
