#ifndef ENGRAM_CBLAS_SHIM_H
#define ENGRAM_CBLAS_SHIM_H
// Debian's libblas-dev puts cblas.h on the include path through alternatives; netlib and OpenBLAS
// declare the enums with different types, so Swift code uses only the constants and Int32 arguments.
#include <cblas.h>
#endif
