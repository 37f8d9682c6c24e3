#include "CEngramKernels.h"
#include <string.h>

// The encoder's dense layers in bfloat16 (an option: activations and weights rounded to 8
// significant bits, products summed in f32). Weights are packed once into panels of 16 output
// columns, each input pair's two weights side by side, which is the operand order of the
// AVX-512 BF16 dot instruction (vdpbf16ps: 16 lanes, each lane the dot of two bf16 pairs added
// to an f32). Debian's OpenBLAS 0.3.21 exports no sbgemm, hence this kernel.

uint16_t engram_bf16_round(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // NaN stays NaN
    u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
    return (uint16_t)(u >> 16);
}

size_t engram_bf16_panel_count(size_t outputs, size_t inputs) {
    return (outputs + 15) / 16 * 16 * ((inputs + 1) / 2) * 2;
}

void engram_bf16_pack_weights(const float *w, size_t outputs, size_t inputs, uint16_t *panels) {
    const size_t pairs = (inputs + 1) / 2, blocks = (outputs + 15) / 16;
    for (size_t b = 0; b < blocks; b++)
        for (size_t p = 0; p < pairs; p++)
            for (size_t j = 0; j < 16; j++)
                for (size_t h = 0; h < 2; h++) {
                    const size_t o = b * 16 + j, i = 2 * p + h;
                    panels[((b * pairs + p) * 16 + j) * 2 + h] = o < outputs && i < inputs ? engram_bf16_round(w[o * inputs + i]) : 0;
                }
}

static void bf16_rows_scalar(const float *x, size_t rows, size_t cols, uint16_t *out) {
    const size_t width = (cols + 1) / 2 * 2;
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) out[r * width + c] = engram_bf16_round(x[r * cols + c]);
        if (width > cols) out[r * width + cols] = 0;
    }
}

void engram_gemm_bf16_scalar(const uint16_t *a, size_t rows, size_t pairs, const uint16_t *panels,
                             size_t firstBlock, size_t blocks, float *c, size_t ldc, size_t outputs) {
    for (size_t r = 0; r < rows; r++)
        for (size_t b = firstBlock; b < firstBlock + blocks; b++)
            for (size_t j = 0; j < 16 && b * 16 + j < outputs; j++) {
                float sum = 0;
                for (size_t p = 0; p < pairs; p++) {
                    const uint16_t *w = panels + ((b * pairs + p) * 16 + j) * 2, *x = a + r * 2 * pairs + 2 * p;
                    for (size_t h = 0; h < 2; h++) {
                        uint32_t xu = (uint32_t)x[h] << 16, wu = (uint32_t)w[h] << 16;
                        float xf, wf;
                        memcpy(&xf, &xu, 4);
                        memcpy(&wf, &wu, 4);
                        sum += xf * wf;
                    }
                }
                c[r * ldc + b * 16 + j] += sum;
            }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define BF16 __attribute__((target("avx512f,avx512bw,avx512bf16")))

int engram_cpu_has_bf16(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16");
}

// One tile: `R` rows (≤ 8) × `NB` panels (≤ 2) over every input pair, added to C. Inlined with
// constant R and NB, the accumulators stay in registers (16 + 2 panel loads + 1 broadcast).
BF16 static inline __attribute__((always_inline)) void
tile(const uint16_t *a, size_t lda, const uint16_t *b0, size_t pairs, float *c, size_t ldc,
     int R, int NB, __mmask16 m0, __mmask16 m1) {
    __m512 acc[8][2];
    for (int r = 0; r < R; r++) for (int n = 0; n < NB; n++) acc[r][n] = _mm512_setzero_ps();
    const uint16_t *b1 = b0 + pairs * 32;
    for (size_t p = 0; p < pairs; p++) {
        __m512bh w0 = (__m512bh)_mm512_loadu_si512(b0 + p * 32);
        __m512bh w1 = NB > 1 ? (__m512bh)_mm512_loadu_si512(b1 + p * 32) : w0;
        for (int r = 0; r < R; r++) {
            int32_t pair;
            memcpy(&pair, a + r * lda + 2 * p, 4);
            __m512bh x = (__m512bh)_mm512_set1_epi32(pair);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], x, w0);
            if (NB > 1) acc[r][1] = _mm512_dpbf16_ps(acc[r][1], x, w1);
        }
    }
    for (int r = 0; r < R; r++) {
        float *row = c + r * ldc;
        _mm512_mask_storeu_ps(row, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, row), acc[r][0]));
        if (NB > 1) _mm512_mask_storeu_ps(row + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, row + 16), acc[r][1]));
    }
}

BF16 static void bf16_rows_avx512(const float *x, size_t rows, size_t cols, uint16_t *out) {
    const size_t width = (cols + 1) / 2 * 2;
    for (size_t r = 0; r < rows; r++) {
        const float *src = x + r * cols;
        uint16_t *dst = out + r * width;
        size_t c = 0;
        for (; c + 16 <= cols; c += 16) _mm256_storeu_si256((__m256i *)(dst + c), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + c)));
        for (; c < cols; c++) dst[c] = engram_bf16_round(src[c]);
        if (width > cols) dst[cols] = 0;
    }
}

void engram_bf16_rows(const float *x, size_t rows, size_t cols, uint16_t *out) {
    static int cached = -1;  // read and written atomically: many threads convert rows at once
    int has = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (has < 0) {
        has = engram_cpu_has_bf16();
        __atomic_store_n(&cached, has, __ATOMIC_RELAXED);
    }
    if (has) bf16_rows_avx512(x, rows, cols, out);
    else bf16_rows_scalar(x, rows, cols, out);
}

static inline __mmask16 columns_mask(size_t first, size_t outputs) {
    return first >= outputs ? 0 : outputs - first >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (outputs - first)) - 1);
}

BF16 void engram_gemm_bf16_avx512(const uint16_t *a, size_t rows, size_t pairs, const uint16_t *panels,
                                  size_t firstBlock, size_t blocks, float *c, size_t ldc, size_t outputs) {
    const size_t lda = 2 * pairs;
    // Two panels (32 columns) at a time, the panels' pairs reused by every block of 8 rows.
    for (size_t b = firstBlock; b < firstBlock + blocks; b += 2) {
        const int two = b + 1 < firstBlock + blocks;
        const uint16_t *w = panels + b * pairs * 32;
        const __mmask16 m0 = columns_mask(b * 16, outputs), m1 = columns_mask(b * 16 + 16, outputs);
        float *cb = c + b * 16;
        size_t r = 0;
        for (; r + 8 <= rows; r += 8) {
            if (two) tile(a + r * lda, lda, w, pairs, cb + r * ldc, ldc, 8, 2, m0, m1);
            else tile(a + r * lda, lda, w, pairs, cb + r * ldc, ldc, 8, 1, m0, m1);
        }
        for (; r < rows; r++) {
            if (two) tile(a + r * lda, lda, w, pairs, cb + r * ldc, ldc, 1, 2, m0, m1);
            else tile(a + r * lda, lda, w, pairs, cb + r * ldc, ldc, 1, 1, m0, m1);
        }
    }
}

#else

int engram_cpu_has_bf16(void) { return 0; }
void engram_bf16_rows(const float *x, size_t rows, size_t cols, uint16_t *out) { bf16_rows_scalar(x, rows, cols, out); }
void engram_gemm_bf16_avx512(const uint16_t *a, size_t rows, size_t pairs, const uint16_t *panels,
                             size_t firstBlock, size_t blocks, float *c, size_t ldc, size_t outputs) {
    engram_gemm_bf16_scalar(a, rows, pairs, panels, firstBlock, blocks, c, ldc, outputs);
}

#endif
