// Branch-free float versions of exp, sigmoid, tanh and erfc, so that loops over them vectorize
// (std::exp and friends do not without -ffast-math). Double keeps the standard library.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace nodegrad::fast {

// e^x for x <= 0 (small positive x also works): Cephes' expf polynomial, rel. error ~2e-7; 0 below
// -87 (e^-87 is near the smallest normal float), so -inf gives 0 as std::exp does.
inline float expNonPositive(float x) {
  const bool underflow = x < -87.0f;
  x = underflow ? -87.0f : x;
  // Adding and subtracting 1.5 · 2^23 rounds to the nearest integer in any rounding-free build.
  const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  const float p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
                   1.6666665459e-1f) *
                      r +
                  5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scaleBits = 0;
  std::memcpy(&scaleBits, &bits, sizeof bits);
  return underflow ? 0.0f : e * scaleBits;
}
inline double expNonPositive(double x) { return std::exp(x); }

// 1 / (1 + e^-x) from e^-|x|, which never overflows.
inline float sigmoid(float x) {
  const float e = expNonPositive(-std::abs(x));
  const float s = 1.0f / (1.0f + e);
  return x >= 0.0f ? s : e * s;
}
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Cephes' tanhf: an odd polynomial below |x| = 0.625 (where 1 - e^-2|x| would cancel), else from e^-2|x|.
inline float tanh(float x) {
  const float ax = std::abs(x);
  const float s = x * x;
  const float small =
      ((((-5.70498872745e-3f * s + 2.06390887954e-2f) * s - 5.37397155531e-2f) * s + 1.33314422036e-1f) * s -
       3.33332819422e-1f) *
          s * x +
      x;
  const float e = expNonPositive(-2.0f * ax);
  const float large = (1.0f - e) / (1.0f + e);
  return ax < 0.625f ? small : (x < 0.0f ? -large : large);
}
inline double tanh(double x) { return std::tanh(x); }

// erfc(x) with relative error < 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit, erfcc), plus expf's error.
inline float erfc(float x) {
  const float z = std::abs(x);
  const float t = 1.0f / (1.0f + 0.5f * z);
  const float p =
      -1.26551223f +
      t * (1.00002368f +
           t * (0.37409196f +
                t * (0.09678418f +
                     t * (-0.18628806f +
                          t * (0.27886807f +
                               t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
  const float r = t * expNonPositive(p - z * z);
  return x >= 0.0f ? r : 2.0f - r;
}
inline double erfc(double x) { return std::erfc(x); }

}  // namespace nodegrad::fast
