// NODEGRAD_CLONES: compile a hot loop once per x86-64 level (AVX-512, AVX2+FMA, baseline) and pick
// the clone at load time from CPUID (GCC/clang function multiversioning, resolved through an ifunc).
// The addon itself is built for the baseline ISA so that one binary runs on any x86-64; GEMM has its
// own per-ISA translation units. Elsewhere (arm64, macOS, other compilers) it expands to nothing.
#pragma once

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(NODEGRAD_NO_CLONES)
#define NODEGRAD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NODEGRAD_CLONES
#endif
