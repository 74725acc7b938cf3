{
  "targets": [
    {
      "target_name": "drm-gpuvm",
      "sources": [
        "native/binding.cc",
        "native/args.cc",
        "native/device.cc",
        "native/dma_buf.cc",
        "native/driver_bind.cc",
        "native/driver_check.cc",
        "native/driver_ioctl_table.cc",
        "native/errors.cc",
        "native/fd.cc",
        "native/fd_wait.cc",
        "native/gem.cc",
        "native/ioctl.cc",
        "native/mapping.cc",
        "native/memfd.cc",
        "native/prime.cc",
        "native/result.cc",
        "native/sync_file.cc",
        "native/syncobj.cc",
        "native/udmabuf.cc",
        "native/va_window.cc",
        "native/vgem.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "DRM_GPUVM_SOURCE_DIGEST=\"<!(node scripts/native-digest.mjs)\""
      ],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
