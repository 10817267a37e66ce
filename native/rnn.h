// Fused gate kernels of the recurrent layers (RNN, LSTM, GRU): one call per time step does all the
// element-wise work of a step after the recurrent GEMM, and its backward counterpart the work of
// the reverse step. Gate order and formulas are PyTorch's.
#pragma once
#include <cstdint>

namespace nodegrad {

// A step over `batch` rows of `hidden` features; every buffer is dense and row-major.
struct RecurrentCellShape {
  int64_t batch = 0, hidden = 0;
};

// a = xGates + hGates + biasHh (biasHh may be null); h = tanh(a), or relu(a) when `relu`.
template <typename T>
void rnnCell(const RecurrentCellShape& s, bool relu, const T* xGates, const T* hGates, const T* biasHh, T* h);
// gradGates = gradH * act'(a), read from h.
template <typename T>
void rnnCellBackward(const RecurrentCellShape& s, bool relu, const T* h, const T* gradH, T* gradGates);

// Gates [batch, 4 * hidden] in PyTorch's order i, f, g, o: pre-activations xGates + hGates +
// biasHh; c = f * cPrev + i * g; h = o * tanh(c). gates (may be null) receives the activated gates.
template <typename T>
void lstmCell(const RecurrentCellShape& s, const T* xGates, const T* hGates, const T* biasHh, const T* cPrev, T* c,
              T* h, T* gates);
// From the activated gates, cPrev, c and gradH (the gradient of h): gradGates = the gradient of the
// pre-activations; gradC holds the gradient of c on entry and that of cPrev on return.
template <typename T>
void lstmCellBackward(const RecurrentCellShape& s, const T* gates, const T* cPrev, const T* c, const T* gradH, T* gradC,
                      T* gradGates);

// Gates r, z, n: r, z = sigmoid(x + h parts + biases); n = tanh(xN + r * (hN + bHN)), with the input
// bias already in xGates; h = (1 - z) * n + z * hPrev. saved (may be null, [batch, 4 * hidden])
// receives r, z, n and hN + bHN, which backward reads.
template <typename T>
void gruCell(const RecurrentCellShape& s, const T* xGates, const T* hGates, const T* biasHh, const T* hPrev, T* h,
             T* saved);
// gradXGates and gradHGates [batch, 3 * hidden] are the gradients of the input and hidden
// projections (they differ in the n part, which r scales); gradHPrev += the direct z * gradH term.
template <typename T>
void gruCellBackward(const RecurrentCellShape& s, const T* saved, const T* hPrev, const T* gradH, T* gradXGates,
                     T* gradHGates, T* gradHPrev);

}  // namespace nodegrad
