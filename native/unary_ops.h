// The table of table-driven unary ops: one row per op gives its enum name, its forward expression
// of the input `v` and its backward expression of the upstream gradient `g` and the saved value `s`
// (the input or the output, as the op's row in lib/ops/unary.ts says). `a` and `b` are the op's two
// parameters. The UnaryOp enum, the forward switch and the backward switch are generated from it;
// the order of the rows is the order of lib/ops/unary.ts's table (test/ops/unary.test.ts checks).
#pragma once
#include <cmath>

namespace nodegrad {
namespace unary_math {

}  // namespace unary_math
}  // namespace nodegrad

// X(Name, forward of v, backward of g and s)
#define NODEGRAD_UNARY_OPS(X)                      \
  X(Square, v * v, g * T(2) * s)
