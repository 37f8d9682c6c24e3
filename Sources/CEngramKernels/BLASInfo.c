#define _GNU_SOURCE
#include "CEngramKernels.h"
#include <dlfcn.h>
#include <stddef.h>

extern void cblas_sgemm();  // only its address is taken, to find the library that serves it

const char *engram_blas_library_path(void) {
    Dl_info info;
    if (dladdr((void *)&cblas_sgemm, &info) && info.dli_fname) return info.dli_fname;
    return NULL;
}

const char *engram_blas_openblas_corename(void) {
    char *(*f)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
    return f ? f() : NULL;
}

const char *engram_blas_openblas_config(void) {
    char *(*f)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_config");
    return f ? f() : NULL;
}

int engram_blas_set_threads(int threads) {
    void (*f)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
    if (f) { f(threads); return 1; }
    void (*g)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "bli_thread_set_num_threads");
    if (g) { g(threads); return 1; }
    return 0;
}

int engram_blas_get_threads(void) {
    int (*f)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
    return f ? f() : -1;
}
