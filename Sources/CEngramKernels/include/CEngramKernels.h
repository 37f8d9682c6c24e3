#ifndef ENGRAM_KERNELS_H
#define ENGRAM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// x86-64 kernels compiled for specific instruction sets with per-function target attributes and
// chosen at run time, so one release build runs on any x86-64 machine and uses what the CPU has.
// Swift has no per-function target attribute; these few functions are the only C in the engine.

/// 0: baseline (use the portable Swift SIMD kernels), 1: AVX2 + FMA, 2: AVX-512F.
int engram_cpu_level(void);

float engram_dot_avx2(const float *a, const float *b, size_t n);
float engram_l2sq_avx2(const float *a, const float *b, size_t n);
float engram_dot_avx512(const float *a, const float *b, size_t n);
float engram_l2sq_avx512(const float *a, const float *b, size_t n);
// Negated inner products: the distance form of ip/cosine (smaller is better), without a wrapper call.
float engram_negdot_avx2(const float *a, const float *b, size_t n);
float engram_negdot_avx512(const float *a, const float *b, size_t n);

// Block scans for the exact search: out[r] = distance of q to the r-th of `count` rows of n floats,
// `stride` floats apart (negated inner product, or squared l2), four rows at a time.
void engram_scan_negdot_avx2(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out);
void engram_scan_l2sq_avx2(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out);
void engram_scan_negdot_avx512(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out);
void engram_scan_l2sq_avx512(const float *q, const float *rows, size_t stride, size_t n, size_t count, float *out);

// Half-precision rows for graph traversal: the query stays f32, stored rows are IEEE f16 (half the
// bytes per distance). Conversion needs F16C, which every AVX2 CPU has. n is any length.
// The _avx2 kernels need AVX2+FMA+F16C (check engram_cpu_level() >= 1); the _scalar ones run anywhere.
void engram_f32_to_f16(const float *src, uint16_t *dst, size_t n);  // dispatches itself
void engram_f32_to_f16_scalar(const float *src, uint16_t *dst, size_t n);
float engram_negdot_f16_avx2(const float *q, const uint16_t *x, size_t n);
float engram_l2sq_f16_avx2(const float *q, const uint16_t *x, size_t n);
float engram_negdot_f16_scalar(const float *q, const uint16_t *x, size_t n);
float engram_l2sq_f16_scalar(const float *q, const uint16_t *x, size_t n);

// 8-bit traversal codes: Σ x[i]·q[i] over n bytes, exact in int32 for n < 2^16, x unsigned (a
// stored code row, biased by 128), q signed in [-127, 127] (a prepared query). The _avx2 kernel
// widens to 16 bits and multiplies pairs (vpmaddwd); the _vnni one multiplies 64 bytes per
// instruction (vpdpbusd) and needs AVX-512 BW + VNNI (engram_cpu_has_vnni()).
int32_t engram_dot_u8s8_avx2(const uint8_t *x, const int8_t *q, size_t n);
int32_t engram_dot_u8s8_vnni(const uint8_t *x, const int8_t *q, size_t n);
/// out[j] = the code dot of q with row slots[j] of `codes` (rows of n bytes, back to back), for
/// j < count: a graph hop's neighbours in one call, four rows sharing each load of the query.
void engram_dots_u8s8_avx2(const int8_t *q, const uint8_t *codes, const uint32_t *slots, size_t count, size_t n, int32_t *out);
void engram_dots_u8s8_vnni(const int8_t *q, const uint8_t *codes, const uint32_t *slots, size_t count, size_t n, int32_t *out);
/// Prepares a query for the code kernels (see ScalarQuantizer): writes its n signed bytes, their
/// sum and the query's constant term (‖q − c‖² when centred, else −q·c); returns bytes per weight.
float engram_code_prepare(const float *q, const float *centers, const float *steps, size_t n, int centred,
                          int8_t *bytes, int32_t *sum, float *offset);
/// 1 when the CPU runs AVX-512 BW and VNNI.
int engram_cpu_has_vnni(void);

/// The first index j in [start, n) where key(j) >= t, or n; key(j) = dots[j], or 2·dots[j] - norms[j]
/// when norms is not NULL (the L2 form, up to a per-query constant). Scans a block of scores for the
/// few that can enter a top-k heap.
size_t engram_next_candidate(const float *dots, const float *norms, size_t start, size_t n, float t);

// The encoder's dense layers in bfloat16 (BF16.c). Weights [outputs, inputs] are packed once
// into engram_bf16_panel_count(outputs, inputs) halves: panels of 16 outputs, each input pair's
// two weights adjacent (inputs padded to even, outputs to 16, with zeros). Activations are rows of
// bf16 of even width (engram_bf16_rows pads an odd count with a zero). The gemm adds
// a[rows, 2·pairs] · panelsᵀ for the output columns of panels firstBlock ..< firstBlock + blocks
// (columns ≥ outputs untouched) to c (row stride ldc). The _avx512 one needs AVX-512 BW + BF16
// (engram_cpu_has_bf16()); the _scalar one runs anywhere and is the reference.
uint16_t engram_bf16_round(float x);
size_t engram_bf16_panel_count(size_t outputs, size_t inputs);
void engram_bf16_pack_weights(const float *w, size_t outputs, size_t inputs, uint16_t *panels);
void engram_bf16_rows(const float *x, size_t rows, size_t cols, uint16_t *out);
int engram_cpu_has_bf16(void);
void engram_gemm_bf16_avx512(const uint16_t *a, size_t rows, size_t pairs, const uint16_t *panels,
                             size_t firstBlock, size_t blocks, float *c, size_t ldc, size_t outputs);
void engram_gemm_bf16_scalar(const uint16_t *a, size_t rows, size_t pairs, const uint16_t *panels,
                             size_t firstBlock, size_t blocks, float *c, size_t ldc, size_t outputs);

// Transformer encoder elementwise kernels (dispatching to AVX2 where available).
/// x ← GELU(x) = x·Φ(x), the exact (erf) form used by BERT.
void engram_gelu(float *x, size_t n);
/// Softmax of each of `rows` rows of `cols` values, rows `ld` floats apart, in place.
void engram_softmax_rows(float *x, size_t rows, size_t cols, size_t ld);
/// LayerNorm of each row in place: (x - mean) / sqrt(var + eps) · gamma + beta.
void engram_layer_norm(float *x, size_t rows, size_t cols, const float *gamma, const float *beta, float eps);

// BLAS introspection through dlsym, so the same binary reports whichever libblas.so.3 the
// alternatives system resolved (OpenBLAS, BLIS, netlib).
const char *engram_blas_library_path(void);
const char *engram_blas_openblas_corename(void);
const char *engram_blas_openblas_config(void);
int engram_blas_set_threads(int threads);
int engram_blas_get_threads(void);

// Atomic access to plain memory (graph links, per-node flags) for lock-free readers.
static inline uint32_t engram_load_acquire_u32(const uint32_t *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void engram_store_release_u32(uint32_t *p, uint32_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline uint8_t engram_load_acquire_u8(const uint8_t *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void engram_store_release_u8(uint8_t *p, uint8_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline void engram_spin_lock(uint8_t *p) {
    while (__atomic_exchange_n(p, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(p, __ATOMIC_RELAXED)) {
#if defined(__x86_64__)
            __builtin_ia32_pause();
#endif
        }
    }
}
static inline void engram_spin_unlock(uint8_t *p) {
    __atomic_store_n(p, 0, __ATOMIC_RELEASE);
}
static inline void engram_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}
/// Prefetches `bytes` from `p`, one request per cache line, so that the lines of a vector load in
/// parallel instead of one miss after another.
static inline void engram_prefetch_range(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    for (size_t i = 0; i < bytes; i += 64) __builtin_prefetch(c + i, 0, 3);
}

#endif
