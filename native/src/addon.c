/*
 * Node-API binding of the matrix product, gemm(transA, transB, m, n, k, a, b, c) with Float32Array
 * operands, and of the half-precision conversions decodeF16 / encodeF16 (views into tfjs's wasm heap are fine: nothing here allocates JS memory, so they stay
 * valid). Node-API keeps the addon loadable from worker threads and from Electron without a rebuild.
 */
#include <node_api.h>
#include <stdio.h>

#include "f16.h"
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

static int get_halves(napi_env env, napi_value value, uint16_t **data, size_t *length) {
  napi_typedarray_type type;
  void *raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok || type != napi_uint16_array) return 0;
  *data = raw;
  return 1;
}

/* decodeF16(src: Uint16Array, dst: Float32Array): dst[i] = src[i] as a float, for src.length values */
static napi_value decode_f16(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint16_t *src;
  float *dst;
  size_t ls, ld;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !get_halves(env, argv[0], &src, &ls) || !get_floats(env, argv[1], &dst, &ld)) {
    return throw_error(env, "decodeF16 expects (Uint16Array, Float32Array)");
  }
  if (ld < ls) return throw_error(env, "decodeF16: the output is shorter than the input");
  if (!amalgam_f16c_supported()) return throw_error(env, "decodeF16: this CPU has no F16C");
  amalgam_f16_to_f32(src, dst, ls);
  return NULL;
}

/* encodeF16(src: Float32Array, dst: Uint16Array): dst[i] = src[i] rounded to half, for src.length values */
static napi_value encode_f16(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  float *src;
  uint16_t *dst;
  size_t ls, ld;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !get_floats(env, argv[0], &src, &ls) || !get_halves(env, argv[1], &dst, &ld)) {
    return throw_error(env, "encodeF16 expects (Float32Array, Uint16Array)");
  }
  if (ld < ls) return throw_error(env, "encodeF16: the output is shorter than the input");
  if (!amalgam_f16c_supported()) return throw_error(env, "encodeF16: this CPU has no F16C");
  amalgam_f32_to_f16(src, dst, ls);
  return NULL;
}

static napi_value has_f16c(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, amalgam_f16c_supported(), &result);
  return result;
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
  napi_create_function(env, "decodeF16", NAPI_AUTO_LENGTH, decode_f16, NULL, &fn);
  napi_set_named_property(env, exports, "decodeF16", fn);
  napi_create_function(env, "encodeF16", NAPI_AUTO_LENGTH, encode_f16, NULL, &fn);
  napi_set_named_property(env, exports, "encodeF16", fn);
  napi_create_function(env, "hasF16c", NAPI_AUTO_LENGTH, has_f16c, NULL, &fn);
  napi_set_named_property(env, exports, "hasF16c", fn);
  return exports;
}
