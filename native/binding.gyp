{
  "targets": [
    {
      "target_name": "amalgam_native",
      "sources": ["src/addon.c", "src/gemm.c", "src/f16.c"],
      "cflags": ["-O3", "-Wall", "-Wextra"],
      "cflags_c": ["-std=gnu11"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=gnu11"] }
    }
  ]
}
