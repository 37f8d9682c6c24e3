#include "CEngramKernels.h"
#include <math.h>

// Elementwise kernels of the transformer encoder: GELU (exact erf form) and row softmax. Both need
// exp over hundreds of millions of values per thousand sentences, so the AVX2 paths use a
// vectorized exp (Cephes-style range reduction + degree-6 polynomial, ~1e-7 relative error) and
// erf from Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7).

static inline float gelu_scalar(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 exp256(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-87.3365447504f);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
    fx = _mm256_floor_ps(fx);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500E-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

AVX2 static void gelu_avx2(float *x, size_t n) {
    const __m256 p = _mm256_set1_ps(0.3275911f), one = _mm256_set1_ps(1.0f), half = _mm256_set1_ps(0.5f);
    const __m256 a1 = _mm256_set1_ps(0.254829592f), a2 = _mm256_set1_ps(-0.284496736f), a3 = _mm256_set1_ps(1.421413741f);
    const __m256 a4 = _mm256_set1_ps(-1.453152027f), a5 = _mm256_set1_ps(1.061405429f);
    const __m256 rsqrt2 = _mm256_set1_ps(0.70710678118654752f), signmask = _mm256_set1_ps(-0.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 z = _mm256_mul_ps(v, rsqrt2);
        __m256 az = _mm256_andnot_ps(signmask, z);
        __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(p, az, one));
        __m256 poly = _mm256_fmadd_ps(a5, t, a4);
        poly = _mm256_fmadd_ps(poly, t, a3);
        poly = _mm256_fmadd_ps(poly, t, a2);
        poly = _mm256_fmadd_ps(poly, t, a1);
        poly = _mm256_mul_ps(poly, t);
        __m256 erfabs = _mm256_fnmadd_ps(poly, exp256(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(az, az))), one);
        __m256 erf = _mm256_or_ps(erfabs, _mm256_and_ps(signmask, z));
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, erf)));
    }
    for (; i < n; i++) x[i] = gelu_scalar(x[i]);
}

AVX2 static void softmax_avx2(float *row, size_t n) {
    __m256 m = _mm256_set1_ps(-INFINITY);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(row + i));
    float mx = -INFINITY, lanes[8];
    _mm256_storeu_ps(lanes, m);
    for (int j = 0; j < 8; j++) mx = lanes[j] > mx ? lanes[j] : mx;
    for (; i < n; i++) mx = row[i] > mx ? row[i] : mx;
    __m256 vmax = _mm256_set1_ps(mx), sum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + i), vmax));
        _mm256_storeu_ps(row + i, e);
        sum = _mm256_add_ps(sum, e);
    }
    _mm256_storeu_ps(lanes, sum);
    float total = 0;
    for (int j = 0; j < 8; j++) total += lanes[j];
    for (; i < n; i++) { row[i] = expf(row[i] - mx); total += row[i]; }
    __m256 inv = _mm256_set1_ps(1.0f / total);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(row + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), inv));
    for (; i < n; i++) row[i] *= 1.0f / total;
}
#endif

static void softmax_scalar(float *row, size_t n) {
    float mx = -INFINITY, total = 0;
    for (size_t i = 0; i < n; i++) mx = row[i] > mx ? row[i] : mx;
    for (size_t i = 0; i < n; i++) { row[i] = expf(row[i] - mx); total += row[i]; }
    for (size_t i = 0; i < n; i++) row[i] /= total;
}

void engram_gelu(float *x, size_t n) {
#if defined(__x86_64__)
    if (engram_cpu_level() >= 1) { gelu_avx2(x, n); return; }
#endif
    for (size_t i = 0; i < n; i++) x[i] = gelu_scalar(x[i]);
}

void engram_softmax_rows(float *x, size_t rows, size_t cols, size_t ld) {
#if defined(__x86_64__)
    if (engram_cpu_level() >= 1) {
        for (size_t r = 0; r < rows; r++) softmax_avx2(x + r * ld, cols);
        return;
    }
#endif
    for (size_t r = 0; r < rows; r++) softmax_scalar(x + r * ld, cols);
}

void engram_layer_norm(float *x, size_t rows, size_t cols, const float *gamma, const float *beta, float eps) {
    for (size_t r = 0; r < rows; r++) {
        float *v = x + r * cols;
        double mean = 0, var = 0;
        for (size_t i = 0; i < cols; i++) mean += v[i];
        mean /= (double)cols;
        for (size_t i = 0; i < cols; i++) { double d = v[i] - mean; var += d * d; }
        float inv = (float)(1.0 / sqrt(var / (double)cols + eps)), m = (float)mean;
        for (size_t i = 0; i < cols; i++) v[i] = (v[i] - m) * inv * gamma[i] + beta[i];
    }
}
