/* OpenBLAS peer for `npm run bench -- gemm` and `-- cnn`: square SGEMM GFLOP/s, median of 5 timed
 * repetitions. Built on demand by bench/peers.mjs when OpenBLAS is installed (Debian:
 * libopenblas0-pthread; without libopenblas-dev's cblas.h it is built with NO_CBLAS_H and linked
 * to libopenblas.so.0 by path). Usage: openblas_gemm n [n ...] */
#ifdef NO_CBLAS_H
enum CBLAS_ORDER { CblasRowMajor = 101 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111 };
void cblas_sgemm(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int, float, const float*, int,
                 const float*, int, float, float*, int);
#else
#include <cblas.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  for (int arg = 1; arg < argc; ++arg) {
    const int n = atoi(argv[arg]);
    float* a = malloc(sizeof(float) * n * n);
    float* b = malloc(sizeof(float) * n * n);
    float* c = malloc(sizeof(float) * n * n);
    for (long i = 0; i < (long)n * n; ++i) {
      a[i] = (float)rand() / RAND_MAX;
      b[i] = (float)rand() / RAND_MAX;
      c[i] = 0;
    }
    const double flops = 2.0 * n * n * n;
    int reps = (int)(1e9 / flops) + 1;
    if (reps < 3) reps = 3;
    for (int w = 0; w < 2; ++w)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double times[5];
    for (int r = 0; r < 5; ++r) {
      const double t0 = now();
      for (int i = 0; i < reps; ++i)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
      times[r] = (now() - t0) / reps;
    }
    qsort(times, 5, sizeof(double), compare);
    printf("%d %.2f\n", n, flops / times[2] / 1e9);
    free(a);
    free(b);
    free(c);
  }
  return 0;
}
