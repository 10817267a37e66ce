{
  "variables": {
    "nodegrad_have_gloo": "<!(node -p \"process.env.NODEGRAD_WITH_GLOO !== '0' && (require('fs').existsSync('/usr/include/gloo/config.h') || require('fs').existsSync('/usr/local/include/gloo/config.h')) ? 1 : 0\")",
    "nodegrad_cflags": ["-O3", "-std=c++17", "-fno-math-errno", "-ffp-contract=fast", "-fvisibility=hidden", "-Wall", "-Wextra"]
  },
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags!": ["-fno-exceptions", "-O2", "-O0"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20", "-O2", "-O0"],
    "cflags_cc": ["<@(nodegrad_cflags)"],
    "xcode_settings": {"GCC_ENABLE_CPP_EXCEPTIONS": "YES", "OTHER_CPLUSPLUSFLAGS": ["<@(nodegrad_cflags)"]}
  },
  "targets": [
    {
      "target_name": "nodegrad",
      "sources": [
        "native/binding.cc",
        "native/elementwise.cc",
        "native/reduce.cc",
        "native/gemm.cc",
        "native/gemm_portable.cc",
        "native/thread_pool.cc",
        "native/binding_nn.cc",
        "native/conv.cc",
        "native/conv_common.cc",
        "native/conv_direct.cc",
        "native/conv_implicit.cc",
        "native/conv_im2col.cc",
        "native/pool.cc",
        "native/softmax.cc",
        "native/optim.cc",
        "native/binding_optim.cc",
        "native/gather.cc",
        "native/binding_gather.cc",
        "native/rnn.cc",
        "native/binding_rnn.cc",
        "native/arena.cc",
        "native/binding_memory.cc",
        "native/norm.cc",
        "native/batch_norm.cc",
        "native/binding_norm.cc",
        "native/attention.cc",
        "native/binding_attention.cc",
        "native/deferred.cc",
        "native/binding_distributed.cc"
      ],
      "conditions": [
        ["nodegrad_have_gloo==1", {
          "sources": ["native/distributed.cc", "native/dist_store.cc"],
          "defines": ["NODEGRAD_HAVE_GLOO"],
          "libraries": ["-lgloo"]
        }],
        ["target_arch=='x64'", {"dependencies": ["nodegrad_avx512", "nodegrad_avx2"]}]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "nodegrad_avx512",
          "type": "static_library",
          "sources": ["native/gemm_avx512.cc", "native/conv_direct_avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512vl", "-mavx512dq", "-mavx512bw", "-mfma", "-mavx2"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512vl", "-mavx512dq", "-mavx512bw", "-mfma", "-mavx2"]}
        },
        {
          "target_name": "nodegrad_avx2",
          "type": "static_library",
          "sources": ["native/gemm_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"]}
        }
      ]
    }]
  ]
}
