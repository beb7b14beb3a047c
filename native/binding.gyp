# Built by scripts/build-native.mjs, which finds OpenBLAS and passes its location as
#   -Dblas_include_dir=<dir of cblas.h> -Dblas_lib_dir=<dir of libopenblas> -Dblas_lib=openblas
#   -Dblas_rpath=<dir>   (only when the dynamic loader would not find libopenblas by itself)
# Kept out of the package root on purpose: npm runs `node-gyp rebuild` by itself for a root
# binding.gyp, and that must not happen (or fail the install) on machines without BLAS.
{
  "variables": {
    "blas_include_dir%": "",
    "blas_lib_dir%": "",
    "blas_lib%": "openblas",
    "blas_rpath%": ""
  },
  "targets": [
    {
      "target_name": "isotropy_blas",
      "sources": ["isotropy_blas.c", "pass_kernels.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O3", "-fopenmp-simd", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-l<(blas_lib)"],
      "conditions": [
        ["blas_include_dir!=''", { "include_dirs": ["<(blas_include_dir)"] }],
        ["blas_lib_dir!='' and OS!='win'", { "libraries": ["-L<(blas_lib_dir)"] }],
        ["blas_rpath!='' and OS!='win'", { "libraries": ["-Wl,-rpath,<(blas_rpath)"] }],
        ["OS=='mac'", {
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-fopenmp-simd", "-Wall"] }
        }]
      ]
    }
  ]
}
