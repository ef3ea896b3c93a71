/*
 * Node-API binding of the matrix product: gemm(transA, transB, m, n, k, a, b, c) with Float32Array
 * operands (views into tfjs's wasm heap are fine: nothing here allocates JS memory, so they stay
 * valid). Node-API keeps the addon loadable from worker threads and from Electron without a rebuild.
 */
#include <node_api.h>
#include <stdio.h>

#include "gemm.h"

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, "AMALGAM_NATIVE", message);
  return NULL;
}

static int get_size(napi_env env, napi_value value, size_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0 || d != (double)(size_t)d) return 0;
  *out = (size_t)d;
  return 1;
}

static int get_floats(napi_env env, napi_value value, float **data, size_t *length) {
  napi_typedarray_type type;
  void *raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok || type != napi_float32_array) return 0;
  *data = raw;
  return 1;
}

static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8) {
    return throw_error(env, "gemm expects (transA, transB, m, n, k, a, b, c)");
  }
  bool trans_a, trans_b;
  size_t m, n, k, la, lb, lc;
  float *a, *b, *c;
  if (napi_get_value_bool(env, argv[0], &trans_a) != napi_ok || napi_get_value_bool(env, argv[1], &trans_b) != napi_ok) {
    return throw_error(env, "gemm: transA and transB must be booleans");
  }
  if (!get_size(env, argv[2], &m) || !get_size(env, argv[3], &n) || !get_size(env, argv[4], &k)) {
    return throw_error(env, "gemm: m, n and k must be non-negative integers");
  }
  if (!get_floats(env, argv[5], &a, &la) || !get_floats(env, argv[6], &b, &lb) || !get_floats(env, argv[7], &c, &lc)) {
    return throw_error(env, "gemm: a, b and c must be Float32Arrays");
  }
  if (la < m * k || lb < k * n || lc < m * n) {
    char message[160];
    snprintf(message, sizeof message, "gemm: operands too short for %zu x %zu times %zu x %zu (lengths %zu, %zu, %zu)", m, k, k, n, la, lb, lc);
    return throw_error(env, message);
  }
  if (amalgam_sgemm(trans_a, trans_b, m, n, k, a, b, c) != 0) return throw_error(env, "gemm: out of memory for the packing buffers");
  return NULL;
}

static napi_value kernel_name(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  const char *name = amalgam_sgemm_uses_avx2() ? "avx2" : "portable";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, gemm, NULL, &fn);
  napi_set_named_property(env, exports, "gemm", fn);
  napi_create_function(env, "kernel", NAPI_AUTO_LENGTH, kernel_name, NULL, &fn);
  napi_set_named_property(env, exports, "kernel", fn);
  return exports;
}
