/*
 * isotropy_blas: a small Node-API addon over the system's OpenBLAS (BLAS + the LAPACK it exports).
 *
 * Optional: scripts/build-native.mjs builds it at install time only where OpenBLAS is found, and
 * src/linalg/native.ts loads it when present. All matrices are row-major float64 (Float64Array).
 *
 * Calls are synchronous: they hold the JS thread for the duration of the BLAS call (OpenBLAS runs
 * its own thread pool underneath) and work on the typed arrays' memory in place, so a 100k x 768
 * block costs no copy. Only syevd copies its d x d input, because LAPACK overwrites it.
 */
#include <node_api.h>
#include <cblas.h>

#include "pass_kernels.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bumped when the exported functions change; src/linalg/native.ts refuses a stale build. */
#define ISOTROPY_BLAS_API_VERSION 2

/*
 * LAPACK's Fortran entry point as exported by libopenblas (no LAPACKE needed). The two trailing
 * size_t are the hidden CHARACTER lengths gfortran passes; an implementation that does not expect
 * them ignores them.
 */
extern void dsyevd_(const char *jobz, const char *uplo, const blasint *n, double *a, const blasint *lda,
                    double *w, double *work, const blasint *lwork, blasint *iwork, const blasint *liwork,
                    blasint *info, size_t jobz_len, size_t uplo_len);
/* The two-stage reduction (LAPACK >= 3.7; values only): level-3 band reduction, then bulge chasing. */
extern void dsyevd_2stage_(const char *jobz, const char *uplo, const blasint *n, double *a, const blasint *lda,
                           double *w, double *work, const blasint *lwork, blasint *iwork, const blasint *liwork,
                           blasint *info, size_t jobz_len, size_t uplo_len);

/* Largest dimension the BLAS integer type holds (32-bit unless OpenBLAS was built with INTERFACE64). */
#define BLASINT_MAX ((double)(((uint64_t)1 << (sizeof(blasint) * 8 - 1)) - 1))

typedef enum { ERR_TYPE, ERR_RANGE, ERR_PLAIN } err_kind;

static void throw_fmt(napi_env env, err_kind kind, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  if (kind == ERR_TYPE) napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  else if (kind == ERR_RANGE) napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  else napi_throw_error(env, NULL, msg);
}

/* Turns a failed napi_* call into a JS Error unless one is already pending. */
static bool napi_ok_or_throw(napi_env env, napi_status status, const char *what) {
  if (status == napi_ok) return true;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  throw_fmt(env, ERR_PLAIN, "isotropy_blas: %s failed (%s)", what,
            info && info->error_message ? info->error_message : "unknown N-API error");
  return false;
}

#define CALL(env, expr) \
  do { if (!napi_ok_or_throw((env), (expr), #expr)) return NULL; } while (0)

typedef struct {
  double *data;
  size_t length;
} f64view;

static const char *typed_array_name(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "typed array";
  }
}

static const char *js_type_name(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return "value";
  switch (t) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_object: return "object";
    case napi_function: return "function";
    case napi_bigint: return "bigint";
    default: return "value";
  }
}

/* A typed array of type `want` (its data and element count), or a thrown TypeError. */
static bool get_typed(napi_env env, napi_value v, const char *fn, const char *name, napi_typedarray_type want,
                      void **data_out, size_t *length_out) {
  bool is_ta = false;
  if (!napi_ok_or_throw(env, napi_is_typedarray(env, v, &is_ta), "napi_is_typedarray")) return false;
  if (!is_ta) {
    throw_fmt(env, ERR_TYPE, "%s: %s must be a %s, got %s", fn, name, typed_array_name(want), js_type_name(env, v));
    return false;
  }
  napi_typedarray_type t;
  size_t len = 0;
  void *data = NULL;
  if (!napi_ok_or_throw(env, napi_get_typedarray_info(env, v, &t, &len, &data, NULL, NULL),
                        "napi_get_typedarray_info"))
    return false;
  if (t != want) {
    throw_fmt(env, ERR_TYPE, "%s: %s must be a %s, got a %s", fn, name, typed_array_name(want), typed_array_name(t));
    return false;
  }
  *data_out = data;
  *length_out = data ? len : 0; /* a detached buffer reports no data */
  return true;
}

static bool get_f64(napi_env env, napi_value v, const char *fn, const char *name, f64view *out) {
  void *data = NULL;
  if (!get_typed(env, v, fn, name, napi_float64_array, &data, &out->length)) return false;
  out->data = (double *)data;
  return true;
}

/* A matrix dimension: a non-negative integer that the BLAS integer type can hold. */
static bool get_dim(napi_env env, napi_value v, const char *fn, const char *name, size_t *out) {
  napi_valuetype t;
  if (!napi_ok_or_throw(env, napi_typeof(env, v, &t), "napi_typeof")) return false;
  if (t != napi_number) {
    throw_fmt(env, ERR_TYPE, "%s: %s must be a number, got %s", fn, name, js_type_name(env, v));
    return false;
  }
  double x = 0;
  if (!napi_ok_or_throw(env, napi_get_value_double(env, v, &x), "napi_get_value_double")) return false;
  if (!(isfinite(x) && x >= 0 && floor(x) == x)) {
    throw_fmt(env, ERR_RANGE, "%s: %s must be a non-negative integer, got %g", fn, name, x);
    return false;
  }
  if (x > BLASINT_MAX) {
    throw_fmt(env, ERR_RANGE, "%s: %s = %.0f exceeds the BLAS integer range (%.0f)", fn, name, x, BLASINT_MAX);
    return false;
  }
  *out = (size_t)x;
  return true;
}

/* rows * cols without size_t overflow (only reachable with a 64-bit BLAS integer). */
static bool mul_dims(napi_env env, const char *fn, size_t rows, size_t cols, size_t *out) {
  if (cols != 0 && rows > SIZE_MAX / sizeof(double) / cols) {
    throw_fmt(env, ERR_RANGE, "%s: %zu x %zu elements do not fit in memory", fn, rows, cols);
    return false;
  }
  *out = rows * cols;
  return true;
}

/* Whether the first na elements of a and the first nb of b share memory (BLAS forbids output aliasing). */
static bool overlaps(const double *a, size_t na, const double *b, size_t nb) {
  if (na == 0 || nb == 0) return false;
  return (uintptr_t)a < (uintptr_t)(b + nb) && (uintptr_t)b < (uintptr_t)(a + na);
}

static bool check_argc(napi_env env, const char *sig, size_t argc, size_t need) {
  if (argc >= need) return true;
  throw_fmt(env, ERR_TYPE, "%s needs %zu arguments, got %zu", sig, need, argc);
  return false;
}

static bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_undefined || t == napi_null);
}

/* New Float64Array of n elements; *data points at its (zeroed) memory. */
static napi_value new_f64(napi_env env, size_t n, double **data) {
  napi_value ab, ta;
  void *raw = NULL;
  CALL(env, napi_create_arraybuffer(env, n * sizeof(double), &raw, &ab));
  CALL(env, napi_create_typedarray(env, napi_float64_array, n, ab, 0, &ta));
  *data = (double *)raw;
  return ta;
}

/* syrkUpper(x, rows, dims, out, beta): out = X^T X + beta * out on the upper triangle (i <= j). */
static napi_value syrk_upper(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "syrkUpper";
  size_t argc = 5;
  napi_value argv[5];
  CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (!check_argc(env, "syrkUpper(x, rows, dims, out, beta)", argc, 5)) return NULL;

  f64view x, out;
  size_t rows, dims, need, dd;
  if (!get_f64(env, argv[0], fn, "x", &x) || !get_dim(env, argv[1], fn, "rows", &rows) ||
      !get_dim(env, argv[2], fn, "dims", &dims) || !get_f64(env, argv[3], fn, "out", &out))
    return NULL;
  napi_valuetype bt;
  double beta = -1;
  CALL(env, napi_typeof(env, argv[4], &bt));
  if (bt != napi_number) {
    throw_fmt(env, ERR_TYPE, "%s: beta must be the number 0 or 1, got %s", fn, js_type_name(env, argv[4]));
    return NULL;
  }
  CALL(env, napi_get_value_double(env, argv[4], &beta));
  if (beta != 0 && beta != 1) {
    throw_fmt(env, ERR_RANGE, "%s: beta must be 0 or 1, got %g", fn, beta);
    return NULL;
  }
  if (!mul_dims(env, fn, rows, dims, &need) || !mul_dims(env, fn, dims, dims, &dd)) return NULL;
  if (x.length < need) {
    throw_fmt(env, ERR_RANGE, "%s: x has %zu elements, rows x dims = %zu x %zu needs %zu", fn, x.length,
              rows, dims, need);
    return NULL;
  }
  if (out.length != dd) {
    throw_fmt(env, ERR_RANGE, "%s: out has %zu elements, dims x dims = %zu x %zu needs exactly %zu", fn,
              out.length, dims, dims, dd);
    return NULL;
  }
  if (overlaps(x.data, need, out.data, dd)) {
    throw_fmt(env, ERR_RANGE, "%s: out must not share memory with x", fn);
    return NULL;
  }
  if (dims == 0) return NULL;
  if (rows == 0) {
    /* X^T X of no rows is zero; handled here so BLAS never sees an empty (possibly NULL) x. */
    if (beta == 0)
      for (size_t i = 0; i < dims; i++) memset(out.data + i * dims + i, 0, (dims - i) * sizeof(double));
    return NULL;
  }
  /* Row-major X is rows x dims, so X^T X is "transposed" syrk with n = dims, k = rows, lda = dims. */
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)dims, (blasint)rows, 1.0, x.data,
              (blasint)dims, beta, out.data, (blasint)dims);
  return NULL;
}

/* gemm(a, m, k, b, n, out?): C = A B; returns out, or a new Float64Array. */
static napi_value gemm(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "gemm";
  size_t argc = 6;
  napi_value argv[6];
  CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (!check_argc(env, "gemm(a, m, k, b, n, out?)", argc, 5)) return NULL;

  f64view a, b, c;
  size_t m, k, n, na, nb, nc;
  if (!get_f64(env, argv[0], fn, "a", &a) || !get_dim(env, argv[1], fn, "m", &m) ||
      !get_dim(env, argv[2], fn, "k", &k) || !get_f64(env, argv[3], fn, "b", &b) ||
      !get_dim(env, argv[4], fn, "n", &n))
    return NULL;
  if (!mul_dims(env, fn, m, k, &na) || !mul_dims(env, fn, k, n, &nb) || !mul_dims(env, fn, m, n, &nc))
    return NULL;
  if (a.length != na) {
    throw_fmt(env, ERR_RANGE, "%s: a has %zu elements, m x k = %zu x %zu needs exactly %zu", fn, a.length, m,
              k, na);
    return NULL;
  }
  if (b.length != nb) {
    throw_fmt(env, ERR_RANGE, "%s: b has %zu elements, k x n = %zu x %zu needs exactly %zu", fn, b.length, k,
              n, nb);
    return NULL;
  }
  napi_value result;
  if (argc >= 6 && !is_nullish(env, argv[5])) {
    if (!get_f64(env, argv[5], fn, "out", &c)) return NULL;
    if (c.length != nc) {
      throw_fmt(env, ERR_RANGE, "%s: out has %zu elements, m x n = %zu x %zu needs exactly %zu", fn, c.length,
                m, n, nc);
      return NULL;
    }
    if (overlaps(a.data, na, c.data, nc) || overlaps(b.data, nb, c.data, nc)) {
      throw_fmt(env, ERR_RANGE, "%s: out must not share memory with a or b", fn);
      return NULL;
    }
    result = argv[5];
  } else {
    result = new_f64(env, nc, &c.data);
    if (!result) return NULL;
    c.length = nc;
  }
  if (nc == 0) return result;
  if (k == 0) {
    memset(c.data, 0, nc * sizeof(double));
    return result;
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, 1.0, a.data,
              (blasint)k, b.data, (blasint)n, 0.0, c.data, (blasint)n);
  return result;
}

/* Smallest d for which eigenvalues alone go through dsyevd_2stage. */
#define TWO_STAGE_MIN_D 2048

/* Runs dsyevd on the column-major lower triangle of a (d x d, overwritten); w gets ascending values. */
static bool run_dsyevd(napi_env env, bool vectors, size_t d, double *a, double *w) {
  const char jobz = vectors ? 'V' : 'N', uplo = 'L';
  blasint n = (blasint)d, lda = (blasint)d, lwork = -1, liwork = -1, info = 0, iwq = 0;
  double wq = 0;
  /*
   * Values only, from TWO_STAGE_MIN_D up: the two-stage reduction (band form by level-3 blocks,
   * then bulge chasing) instead of dsytrd's memory-bound level-2 half: on one thread 1.8x faster
   * at d = 4096, even at 2560, 15% slower at 2048 (where the matrix still fits in a 32 MB cache),
   * and the level-3 half is the one that gains from more threads.
   */
  void (*evd)(const char *, const char *, const blasint *, double *, const blasint *, double *, double *,
              const blasint *, blasint *, const blasint *, blasint *, size_t, size_t) =
      !vectors && d >= TWO_STAGE_MIN_D ? dsyevd_2stage_ : dsyevd_;
  evd(&jobz, &uplo, &n, a, &lda, w, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
  if (info != 0) {
    throw_fmt(env, ERR_PLAIN, "syevd: LAPACK dsyevd workspace query failed (info = %ld)", (long)info);
    return false;
  }
  if (wq > BLASINT_MAX) {
    throw_fmt(env, ERR_RANGE, "syevd: d = %zu needs a LAPACK workspace beyond the BLAS integer range", d);
    return false;
  }
  lwork = (blasint)wq;
  liwork = iwq;
  double *work = malloc((size_t)lwork * sizeof(double));
  blasint *iwork = malloc((size_t)liwork * sizeof(blasint));
  if (!work || !iwork) {
    free(work);
    free(iwork);
    throw_fmt(env, ERR_PLAIN, "syevd: out of memory for the LAPACK workspace (d = %zu)", d);
    return false;
  }
  evd(&jobz, &uplo, &n, a, &lda, w, work, &lwork, iwork, &liwork, &info, 1, 1);
  free(work);
  free(iwork);
  if (info > 0) {
    throw_fmt(env, ERR_PLAIN, "syevd: LAPACK dsyevd did not converge (info = %ld)", (long)info);
    return false;
  }
  if (info < 0) {
    throw_fmt(env, ERR_PLAIN, "syevd: LAPACK dsyevd rejected argument %ld", (long)-info);
    return false;
  }
  return true;
}

/* syevd(m, d, vectors?): { values (descending), vectors? (row-major, column k for values[k]) }. */
static napi_value syevd(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "syevd";
  size_t argc = 3;
  napi_value argv[3];
  CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (!check_argc(env, "syevd(m, d, vectors?)", argc, 2)) return NULL;

  f64view m;
  size_t d, dd;
  bool want = false;
  if (!get_f64(env, argv[0], fn, "m", &m) || !get_dim(env, argv[1], fn, "d", &d)) return NULL;
  if (argc >= 3 && !is_nullish(env, argv[2])) {
    napi_valuetype t;
    CALL(env, napi_typeof(env, argv[2], &t));
    if (t != napi_boolean) {
      throw_fmt(env, ERR_TYPE, "%s: vectors must be a boolean, got %s", fn, js_type_name(env, argv[2]));
      return NULL;
    }
    CALL(env, napi_get_value_bool(env, argv[2], &want));
  }
  if (!mul_dims(env, fn, d, d, &dd)) return NULL;
  if (m.length != dd) {
    throw_fmt(env, ERR_RANGE, "%s: m has %zu elements, d x d = %zu x %zu needs exactly %zu", fn, m.length, d,
              d, dd);
    return NULL;
  }
  /* LAPACK may loop or return garbage on NaN/Inf; only the upper triangle is read. */
  for (size_t i = 0; i < d; i++)
    for (size_t j = i; j < d; j++)
      if (!isfinite(m.data[i * d + j])) {
        double v = m.data[i * d + j];
        throw_fmt(env, ERR_RANGE, "%s: m[%zu * d + %zu] is %s; the matrix must be finite", fn, i, j,
                  isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
        return NULL;
      }

  double *w = NULL, *a = NULL;
  napi_value result, values, vectors = NULL;
  CALL(env, napi_create_object(env, &result));
  values = new_f64(env, d, &w);
  if (!values) return NULL;
  if (want) {
    /* The eigenvectors are computed in place in the array handed back to JS: one d x d copy in all. */
    vectors = new_f64(env, dd, &a);
    if (!vectors) return NULL;
  } else if (d > 0) {
    a = malloc(dd * sizeof(double));
    if (!a) {
      throw_fmt(env, ERR_PLAIN, "%s: out of memory for a %zu x %zu copy", fn, d, d);
      return NULL;
    }
  }
  if (d > 0) {
    memcpy(a, m.data, dd * sizeof(double));
    /* The row-major upper triangle is the column-major lower triangle of the same memory. */
    bool ok = run_dsyevd(env, want, d, a, w);
    if (!want) free(a);
    if (!ok) return NULL;
    for (size_t i = 0, j = d - 1; i < j; i++, j--) {
      double t = w[i];
      w[i] = w[j];
      w[j] = t;
    }
    if (want) {
      /* LAPACK leaves eigenvector k (ascending) in column-major column k, i.e. at a[k*d ...]. Reverse
         the column order to match the descending values, then transpose in place to row-major. */
      for (size_t p = 0, q = d - 1; p < q; p++, q--)
        for (size_t i = 0; i < d; i++) {
          double t = a[p * d + i];
          a[p * d + i] = a[q * d + i];
          a[q * d + i] = t;
        }
      for (size_t i = 0; i < d; i++)
        for (size_t j = i + 1; j < d; j++) {
          double t = a[i * d + j];
          a[i * d + j] = a[j * d + i];
          a[j * d + i] = t;
        }
    }
  }
  CALL(env, napi_set_named_property(env, result, "values", values));
  if (want) CALL(env, napi_set_named_property(env, result, "vectors", vectors));
  return result;
}


/* ---------------------------------------------------------------- the passes' block kernels */

typedef struct {
  void *data;
  size_t length;
} view;

/* Argument i as a typed array of type t holding at least `need` elements (exactly, when exact). */
static bool arg_view(napi_env env, napi_value v, const char *fn, const char *name, napi_typedarray_type t,
                     size_t need, bool exact, view *out) {
  if (!get_typed(env, v, fn, name, t, &out->data, &out->length)) return false;
  if (exact ? out->length != need : out->length < need) {
    throw_fmt(env, ERR_RANGE, "%s: %s has %zu elements, needs %s%zu", fn, name, out->length,
              exact ? "exactly " : "at least ", need);
    return false;
  }
  return true;
}

/* Like arg_view, but null and undefined give a NULL view. */
static bool arg_view_opt(napi_env env, napi_value v, const char *fn, const char *name, napi_typedarray_type t,
                         size_t need, bool exact, view *out) {
  if (is_nullish(env, v)) {
    out->data = NULL;
    out->length = 0;
    return true;
  }
  return arg_view(env, v, fn, name, t, need, exact, out);
}

/* rows and dims (arguments a, b) with rows * dims and dims * cols fitting in memory. */
static bool arg_dims(napi_env env, napi_value *argv, const char *fn, const char *names[2], size_t *a, size_t *b,
                     size_t *ab) {
  return get_dim(env, argv[0], fn, names[0], a) && get_dim(env, argv[1], fn, names[1], b) &&
         mul_dims(env, fn, *a, *b, ab);
}

static napi_value size_result(napi_env env, size_t n) {
  napi_value v;
  CALL(env, napi_create_double(env, (double)n, &v));
  return v;
}

#define ARGS(n, sig)                                                 \
  size_t argc = (n);                                                 \
  napi_value argv[(n)];                                              \
  CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL)); \
  if (!check_argc(env, (sig), argc, (n))) return NULL

/*
 * momentsBlock(x, rows, dims, count, mean, comoment, unitSum, unitSq, min, max, scratch): adds `rows`
 * finite rows to the statistics of `count` earlier ones in place; returns the all-zero rows.
 */
static napi_value moments_block(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "momentsBlock";
  ARGS(11, "momentsBlock(x, rows, dims, count, mean, comoment, unitSum, unitSq, min, max, scratch)");
  size_t rows, dims, n, dd, sn;
  static const char *names[2] = {"rows", "dims"};
  if (!arg_dims(env, argv + 1, fn, names, &rows, &dims, &n) || !mul_dims(env, fn, dims, dims, &dd) ||
      !mul_dims(env, fn, rows + 1, dims, &sn))
    return NULL;
  double count = -1;
  napi_valuetype ct;
  CALL(env, napi_typeof(env, argv[3], &ct));
  if (ct == napi_number) CALL(env, napi_get_value_double(env, argv[3], &count));
  if (!(count >= 0 && isfinite(count))) {
    throw_fmt(env, ERR_RANGE, "%s: count must be a non-negative number", fn);
    return NULL;
  }
  view x, mean, com, unit, sq, mn, mx, scratch;
  if (!arg_view(env, argv[0], fn, "x", napi_float64_array, n, false, &x) ||
      !arg_view(env, argv[4], fn, "mean", napi_float64_array, dims, true, &mean) ||
      !arg_view(env, argv[5], fn, "comoment", napi_float64_array, dd, true, &com) ||
      !arg_view(env, argv[6], fn, "unitSum", napi_float64_array, dims, true, &unit) ||
      !arg_view_opt(env, argv[7], fn, "unitSq", napi_float64_array, dims, true, &sq) ||
      !arg_view(env, argv[8], fn, "min", napi_float64_array, dims, true, &mn) ||
      !arg_view(env, argv[9], fn, "max", napi_float64_array, dims, true, &mx) ||
      !arg_view(env, argv[10], fn, "scratch", napi_float64_array, sn, false, &scratch))
    return NULL;
  if (overlaps(scratch.data, sn, x.data, n) || overlaps(scratch.data, sn, com.data, dd)) {
    throw_fmt(env, ERR_RANGE, "%s: scratch must not share memory with x or comoment", fn);
    return NULL;
  }
  if (dims == 0) return size_result(env, 0);
  return size_result(env, pk_moments_block(x.data, rows, dims, count, mean.data, com.data, unit.data, sq.data,
                                           mn.data, mx.data, scratch.data));
}

/* projectF32(x, rows, dims, center, dir, cols, xs, out): out = f32(x - center) dir (sgemm). */
static napi_value project_f32(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "projectF32";
  ARGS(8, "projectF32(x, rows, dims, center, dir, cols, xs, out)");
  size_t rows, dims, cols, n, dc, rc;
  static const char *names[2] = {"rows", "dims"};
  if (!arg_dims(env, argv + 1, fn, names, &rows, &dims, &n) || !get_dim(env, argv[5], fn, "cols", &cols) ||
      !mul_dims(env, fn, dims, cols, &dc) || !mul_dims(env, fn, rows, cols, &rc))
    return NULL;
  view x, center, dir, xs, out;
  if (!arg_view(env, argv[0], fn, "x", napi_float64_array, n, false, &x) ||
      !arg_view(env, argv[3], fn, "center", napi_float64_array, dims, true, &center) ||
      !arg_view(env, argv[4], fn, "dir", napi_float32_array, dc, true, &dir) ||
      !arg_view(env, argv[6], fn, "xs", napi_float32_array, n, false, &xs) ||
      !arg_view(env, argv[7], fn, "out", napi_float32_array, rc, false, &out))
    return NULL;
  pk_project_f32(x.data, rows, dims, center.data, dir.data, cols, xs.data, out.data);
  return NULL;
}

/*
 * logSumExpF32(p, rows, cols, shift, maxPos, maxNeg, sumPos, sumNeg, scratch): the streaming
 * partition sums of I(W) over `rows x cols` float32 projections plus a float64 shift per column.
 */
static napi_value log_sum_exp_f32(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "logSumExpF32";
  ARGS(9, "logSumExpF32(p, rows, cols, shift, maxPos, maxNeg, sumPos, sumNeg, scratch)");
  size_t rows, cols, n, sc;
  static const char *names[2] = {"rows", "cols"};
  if (!arg_dims(env, argv + 1, fn, names, &rows, &cols, &n) || !mul_dims(env, fn, 6, cols, &sc)) return NULL;
  view p, shift, mp, mn, sp, sn, scratch;
  if (!arg_view(env, argv[0], fn, "p", napi_float32_array, n, false, &p) ||
      !arg_view(env, argv[3], fn, "shift", napi_float64_array, cols, true, &shift) ||
      !arg_view(env, argv[4], fn, "maxPos", napi_float64_array, cols, true, &mp) ||
      !arg_view(env, argv[5], fn, "maxNeg", napi_float64_array, cols, true, &mn) ||
      !arg_view(env, argv[6], fn, "sumPos", napi_float64_array, cols, true, &sp) ||
      !arg_view(env, argv[7], fn, "sumNeg", napi_float64_array, cols, true, &sn) ||
      !arg_view(env, argv[8], fn, "scratch", napi_float64_array, sc, false, &scratch))
    return NULL;
  pk_log_sum_exp_f32(p.data, rows, cols, shift.data, mp.data, mn.data, sp.data, sn.data, scratch.data);
  return NULL;
}

/* unitRowsF32(p, rows, cols, shift, offset, e, unit, skip): adds the unit rows of a column range. */
static napi_value unit_rows_f32(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "unitRowsF32";
  ARGS(8, "unitRowsF32(p, rows, cols, shift, offset, e, unit, skip)");
  size_t rows, cols, n, offset, e;
  static const char *names[2] = {"rows", "cols"};
  if (!arg_dims(env, argv + 1, fn, names, &rows, &cols, &n) || !get_dim(env, argv[4], fn, "offset", &offset) ||
      !get_dim(env, argv[5], fn, "e", &e))
    return NULL;
  if (offset + e > cols) {
    throw_fmt(env, ERR_RANGE, "%s: columns %zu to %zu are outside the %zu columns", fn, offset, offset + e, cols);
    return NULL;
  }
  view p, shift, unit, skip;
  if (!arg_view(env, argv[0], fn, "p", napi_float32_array, n, false, &p) ||
      !arg_view(env, argv[3], fn, "shift", napi_float64_array, cols, true, &shift) ||
      !arg_view(env, argv[6], fn, "unit", napi_float64_array, e, true, &unit) ||
      !arg_view_opt(env, argv[7], fn, "skip", napi_uint8_array, rows, false, &skip))
    return NULL;
  return size_result(env, pk_unit_rows_f32(p.data, rows, cols, shift.data, offset, e, unit.data, skip.data));
}

/* scaledUnitRows(x, rows, dims, scale, unit): adds (x * scale) / |x * scale| of each row to unit. */
static napi_value scaled_unit_rows(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "scaledUnitRows";
  ARGS(5, "scaledUnitRows(x, rows, dims, scale, unit)");
  size_t rows, dims, n;
  static const char *names[2] = {"rows", "dims"};
  if (!arg_dims(env, argv + 1, fn, names, &rows, &dims, &n)) return NULL;
  view x, scale, unit;
  if (!arg_view(env, argv[0], fn, "x", napi_float64_array, n, false, &x) ||
      !arg_view(env, argv[3], fn, "scale", napi_float64_array, dims, true, &scale) ||
      !arg_view(env, argv[4], fn, "unit", napi_float64_array, dims, true, &unit))
    return NULL;
  return size_result(env, pk_scaled_unit_rows(x.data, rows, dims, scale.data, unit.data));
}

/* zeroRows(x, rows, dims, flags): flags[r] = 1 where row r is all zeros, else 0. */
static napi_value zero_rows(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "zeroRows";
  ARGS(4, "zeroRows(x, rows, dims, flags)");
  size_t rows, dims, n;
  static const char *names[2] = {"rows", "dims"};
  if (!arg_dims(env, argv + 1, fn, names, &rows, &dims, &n)) return NULL;
  view x, flags;
  if (!arg_view(env, argv[0], fn, "x", napi_float64_array, n, false, &x) ||
      !arg_view(env, argv[3], fn, "flags", napi_uint8_array, rows, false, &flags))
    return NULL;
  pk_zero_rows(x.data, rows, dims, flags.data);
  return NULL;
}

/* setThreads(n): OpenBLAS's thread count for the calls that start from now on; returns the previous one. */
static napi_value set_threads(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "setThreads";
  ARGS(1, "setThreads(n)");
  size_t n;
  if (!get_dim(env, argv[0], fn, "n", &n)) return NULL;
  if (n < 1 || n > 1024) {
    throw_fmt(env, ERR_RANGE, "%s: n must be from 1 to 1024, got %zu", fn, n);
    return NULL;
  }
  int before = openblas_get_num_threads();
  openblas_set_num_threads((int)n);
  return size_result(env, (size_t)before);
}

/* info(): the OpenBLAS build and thread count, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... (2 threads)". */
static napi_value info(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  char buf[512];
  const char *cfg = openblas_get_config();
  size_t len = cfg ? strlen(cfg) : 0;
  while (len > 0 && (cfg[len - 1] == ' ' || cfg[len - 1] == '\n')) len--;
  int threads = openblas_get_num_threads();
  snprintf(buf, sizeof buf, "%.*s (%d thread%s)", (int)len, cfg ? cfg : "OpenBLAS", threads,
           threads == 1 ? "" : "s");
  napi_value s;
  CALL(env, napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &s));
  return s;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value version;
  napi_property_descriptor props[] = {
      {"syrkUpper", NULL, syrk_upper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"syevd", NULL, syevd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"momentsBlock", NULL, moments_block, NULL, NULL, NULL, napi_enumerable, NULL},
      {"projectF32", NULL, project_f32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"logSumExpF32", NULL, log_sum_exp_f32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unitRowsF32", NULL, unit_rows_f32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scaledUnitRows", NULL, scaled_unit_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"zeroRows", NULL, zero_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  if (napi_create_uint32(env, ISOTROPY_BLAS_API_VERSION, &version) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "apiVersion", version) != napi_ok) return NULL;
  return exports;
}
