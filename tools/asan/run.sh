#!/usr/bin/env bash
# Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer (cmake-js, into build-asan/)
# and runs the native-boundary tests and the fuzzer against it. Node itself is not instrumented, so
# the sanitizer runtime is preloaded; leak detection is off (V8 keeps memory until exit by design).
# Usage: npm run test:asan [-- extra vitest files]
set -euo pipefail
cd "$(dirname "$0")/../.."
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
npx cmake-js compile --out build-asan --CDCMAKE_CXX_FLAGS="$flags" --CDCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
addon="$(find "$PWD/build-asan" -name nodegrad.node | head -n 1)"
ldd "$addon" | grep -q libasan || { echo "tools/asan/run.sh: $addon is not an ASan build" >&2; exit 1; }
runtime="$(g++ -print-file-name=libasan.so)"
ubsan="$(g++ -print-file-name=libubsan.so)"
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=(test/backend/native-boundary.test.ts test/backend/native-fuzz.test.ts test/backend/gather-native.test.ts test/backend/native-hardening.test.ts test/backend/parity.test.ts test/backend/parity-nn.test.ts)
fi
LD_PRELOAD="$runtime $ubsan" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
NODEGRAD_ADDON="$addon" \
  npx vitest run "${files[@]}"
