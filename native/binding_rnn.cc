// N-API glue for the fused recurrent gate kernels (native/rnn.cc). Every buffer is bound with the
// length the step's {batch, hidden} implies, so a short buffer is refused before a kernel writes.
#include <napi.h>

#include <optional>

#include "glue.h"
#include "rnn.h"

namespace nodegrad::glue {
namespace {

// Reads a RecurrentCellParams object {batch, hidden}.
RecurrentCellShape cellShape(const Args& args) {
  const Napi::Object p = args.object(args.at(0), "params");
  RecurrentCellShape s;
  s.batch = args.integer(p, "batch");
  s.hidden = args.integer(p, "hidden");
  checkedMul(s.batch, checkedMul(4, s.hidden));
  return s;
}

// Same float type for every array given.
void sameTypes(const Args& args, const ArrayRef& first, std::initializer_list<std::optional<ArrayRef>> rest) {
  for (const auto& a : rest)
    if (a) args.sameType(first, *a);
}

// rnnCell(params {batch, hidden, relu}, xGates, hGates, biasHh | null, h)
Napi::Value RnnCell(const Napi::CallbackInfo& info) {
  return guarded(info, "native rnnCell", [&](Args& args) {
    const RecurrentCellShape s = cellShape(args);
    const bool relu = args.flag(args.object(args.at(0), "params"), "relu");
    const ArrayRef xg = args.array(1, "xGates"), hg = args.array(2, "hGates");
    const std::optional<ArrayRef> bias = args.optionalArray(3, "biasHh");
    const ArrayRef h = args.array(4, "h");
    sameTypes(args, xg, {hg, bias, h});
    const int64_t n = s.batch * s.hidden;
    dispatchFloat(args, xg, [&](auto tag) {
      using T = decltype(tag);
      rnnCell<T>(s, relu, args.bind(xg, n).as<T>(), args.bind(hg, n).as<T>(), args.bindOptional<T>(bias, s.hidden),
                 args.bind(h, n).as<T>());
    });
    return args.env().Undefined();
  });
}

// rnnCellBackward(params {batch, hidden, relu}, h, gradH, gradGates)
Napi::Value RnnCellBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "native rnnCellBackward", [&](Args& args) {
    const RecurrentCellShape s = cellShape(args);
    const bool relu = args.flag(args.object(args.at(0), "params"), "relu");
    const ArrayRef h = args.array(1, "h"), gradH = args.array(2, "gradH"), gradGates = args.array(3, "gradGates");
    sameTypes(args, h, {gradH, gradGates});
    const int64_t n = s.batch * s.hidden;
    dispatchFloat(args, h, [&](auto tag) {
      using T = decltype(tag);
      rnnCellBackward<T>(s, relu, args.bind(h, n).as<T>(), args.bind(gradH, n).as<T>(),
                         args.bind(gradGates, n).as<T>());
    });
    return args.env().Undefined();
  });
}

// lstmCell(params, xGates, hGates, biasHh | null, cPrev, c, h, gates | null)
Napi::Value LstmCell(const Napi::CallbackInfo& info) {
  return guarded(info, "native lstmCell", [&](Args& args) {
    const RecurrentCellShape s = cellShape(args);
    const ArrayRef xg = args.array(1, "xGates"), hg = args.array(2, "hGates");
    const std::optional<ArrayRef> bias = args.optionalArray(3, "biasHh");
    const ArrayRef cPrev = args.array(4, "cPrev"), c = args.array(5, "c"), h = args.array(6, "h");
    const std::optional<ArrayRef> gates = args.optionalArray(7, "gates");
    sameTypes(args, xg, {hg, bias, cPrev, c, h, gates});
    const int64_t n = s.batch * s.hidden, n4 = 4 * n;
    dispatchFloat(args, xg, [&](auto tag) {
      using T = decltype(tag);
      lstmCell<T>(s, args.bind(xg, n4).as<T>(), args.bind(hg, n4).as<T>(), args.bindOptional<T>(bias, 4 * s.hidden),
                  args.bind(cPrev, n).as<T>(), args.bind(c, n).as<T>(), args.bind(h, n).as<T>(),
                  args.bindOptional<T>(gates, n4));
    });
    return args.env().Undefined();
  });
}

// lstmCellBackward(params, gates, cPrev, c, gradH, gradC, gradGates)
Napi::Value LstmCellBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "native lstmCellBackward", [&](Args& args) {
    const RecurrentCellShape s = cellShape(args);
    const ArrayRef gates = args.array(1, "gates"), cPrev = args.array(2, "cPrev"), c = args.array(3, "c");
    const ArrayRef gradH = args.array(4, "gradH"), gradC = args.array(5, "gradC"),
                   gradGates = args.array(6, "gradGates");
    sameTypes(args, gates, {cPrev, c, gradH, gradC, gradGates});
    const int64_t n = s.batch * s.hidden, n4 = 4 * n;
    dispatchFloat(args, gates, [&](auto tag) {
      using T = decltype(tag);
      lstmCellBackward<T>(s, args.bind(gates, n4).as<T>(), args.bind(cPrev, n).as<T>(), args.bind(c, n).as<T>(),
                          args.bind(gradH, n).as<T>(), args.bind(gradC, n).as<T>(), args.bind(gradGates, n4).as<T>());
    });
    return args.env().Undefined();
  });
}

// gruCell(params, xGates, hGates, biasHh | null, hPrev, h, saved | null)
Napi::Value GruCell(const Napi::CallbackInfo& info) {
  return guarded(info, "native gruCell", [&](Args& args) {
    const RecurrentCellShape s = cellShape(args);
    const ArrayRef xg = args.array(1, "xGates"), hg = args.array(2, "hGates");
    const std::optional<ArrayRef> bias = args.optionalArray(3, "biasHh");
    const ArrayRef hPrev = args.array(4, "hPrev"), h = args.array(5, "h");
    const std::optional<ArrayRef> saved = args.optionalArray(6, "saved");
    sameTypes(args, xg, {hg, bias, hPrev, h, saved});
    const int64_t n = s.batch * s.hidden;
    dispatchFloat(args, xg, [&](auto tag) {
      using T = decltype(tag);
      gruCell<T>(s, args.bind(xg, 3 * n).as<T>(), args.bind(hg, 3 * n).as<T>(),
                 args.bindOptional<T>(bias, 3 * s.hidden), args.bind(hPrev, n).as<T>(), args.bind(h, n).as<T>(),
                 args.bindOptional<T>(saved, 4 * n));
    });
    return args.env().Undefined();
  });
}

// gruCellBackward(params, saved, hPrev, gradH, gradXGates, gradHGates, gradHPrev)
Napi::Value GruCellBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "native gruCellBackward", [&](Args& args) {
    const RecurrentCellShape s = cellShape(args);
    const ArrayRef saved = args.array(1, "saved"), hPrev = args.array(2, "hPrev"), gradH = args.array(3, "gradH");
    const ArrayRef gradX = args.array(4, "gradXGates"), gradHg = args.array(5, "gradHGates");
    const ArrayRef gradHPrev = args.array(6, "gradHPrev");
    sameTypes(args, saved, {hPrev, gradH, gradX, gradHg, gradHPrev});
    const int64_t n = s.batch * s.hidden;
    dispatchFloat(args, saved, [&](auto tag) {
      using T = decltype(tag);
      gruCellBackward<T>(s, args.bind(saved, 4 * n).as<T>(), args.bind(hPrev, n).as<T>(), args.bind(gradH, n).as<T>(),
                         args.bind(gradX, 3 * n).as<T>(), args.bind(gradHg, 3 * n).as<T>(),
                         args.bind(gradHPrev, n).as<T>());
    });
    return args.env().Undefined();
  });
}

}  // namespace

void registerRnnFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("rnnCell", Napi::Function::New(env, RnnCell, "rnnCell"));
  exports.Set("rnnCellBackward", Napi::Function::New(env, RnnCellBackward, "rnnCellBackward"));
  exports.Set("lstmCell", Napi::Function::New(env, LstmCell, "lstmCell"));
  exports.Set("lstmCellBackward", Napi::Function::New(env, LstmCellBackward, "lstmCellBackward"));
  exports.Set("gruCell", Napi::Function::New(env, GruCell, "gruCell"));
  exports.Set("gruCellBackward", Napi::Function::New(env, GruCellBackward, "gruCellBackward"));
}

}  // namespace nodegrad::glue
