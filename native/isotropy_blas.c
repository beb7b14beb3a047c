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
#define ISOTROPY_BLAS_API_VERSION 4

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
#define CALL_BOOL(env, expr) \
  do { if (!napi_ok_or_throw((env), (expr), #expr)) return false; } while (0)

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

/*
 * Work between BLAS calls (the encoder layer's attention, softmax, activation and LayerNorm; the
 * eigendecompositions of several matrices side by side) is split over plain pthreads: OpenBLAS's
 * pool only runs BLAS calls, and its threads would otherwise sit idle while this one works alone.
 */
#define MAX_WORKERS 64

typedef void (*range_fn)(void *ctx, size_t begin, size_t end, size_t worker);

typedef struct {
  range_fn fn;
  void *ctx;
  size_t begin, end, worker;
} range_job;

#ifndef _WIN32
#include <pthread.h>
static void *range_job_run(void *p) {
  range_job *j = (range_job *)p;
  j->fn(j->ctx, j->begin, j->end, j->worker);
  return NULL;
}
#endif

/* Runs fn over [0, n) cut into `workers` contiguous ranges, range 0 on this thread; returns when all are done. */
static void run_parallel(size_t workers, size_t n, range_fn fn, void *ctx) {
  if (workers > n) workers = n;
  if (workers > MAX_WORKERS) workers = MAX_WORKERS;
  if (workers <= 1) {
    if (n > 0) fn(ctx, 0, n, 0);
    return;
  }
  range_job jobs[MAX_WORKERS];
  for (size_t w = 0; w < workers; w++) jobs[w] = (range_job){fn, ctx, n * w / workers, n * (w + 1) / workers, w};
#ifndef _WIN32
  pthread_t tid[MAX_WORKERS];
  bool started[MAX_WORKERS] = {false};
  for (size_t w = 1; w < workers; w++) started[w] = pthread_create(&tid[w], NULL, range_job_run, &jobs[w]) == 0;
  fn(ctx, jobs[0].begin, jobs[0].end, 0);
  for (size_t w = 1; w < workers; w++) {
    if (started[w]) pthread_join(tid[w], NULL);
    else fn(ctx, jobs[w].begin, jobs[w].end, w); /* no thread to be had: do it here */
  }
#else
  for (size_t w = 0; w < workers; w++) fn(ctx, jobs[w].begin, jobs[w].end, w);
#endif
}

/* Smallest d for which eigenvalues alone go through dsyevd_2stage. */
#define TWO_STAGE_MIN_D 2048

/* One symmetric eigendecomposition: plain C, so that several can run on threads of their own. */
typedef struct {
  size_t d;
  bool vectors;
  /* in: the matrix (row-major; its upper triangle is read); out: the eigenvectors when asked */
  double *a;
  /* out: the eigenvalues, descending */
  double *w;
  /* out: what went wrong, if anything (see evd_throw) */
  enum { EVD_OK, EVD_QUERY, EVD_RANGE, EVD_MEMORY, EVD_CONVERGE, EVD_ARGUMENT } status;
  long info;
} evd_job;

/* Runs dsyevd on the column-major lower triangle of job->a (d x d, overwritten); w gets ascending values. */
static void run_dsyevd(evd_job *job) {
  const char jobz = job->vectors ? 'V' : 'N', uplo = 'L';
  blasint n = (blasint)job->d, lda = (blasint)job->d, lwork = -1, liwork = -1, info = 0, iwq = 0;
  double wq = 0;
  /*
   * Values only, from TWO_STAGE_MIN_D up: the two-stage reduction (band form by level-3 blocks,
   * then bulge chasing) instead of dsytrd's memory-bound level-2 half: on one thread 1.8x faster
   * at d = 4096, even at 2560, 15% slower at 2048 (where the matrix still fits in a 32 MB cache),
   * and the level-3 half is the one that gains from more threads.
   */
  void (*evd)(const char *, const char *, const blasint *, double *, const blasint *, double *, double *,
              const blasint *, blasint *, const blasint *, blasint *, size_t, size_t) =
      !job->vectors && job->d >= TWO_STAGE_MIN_D ? dsyevd_2stage_ : dsyevd_;
  evd(&jobz, &uplo, &n, job->a, &lda, job->w, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
  if (info != 0) {
    job->status = EVD_QUERY;
    job->info = (long)info;
    return;
  }
  if (wq > BLASINT_MAX) {
    job->status = EVD_RANGE;
    return;
  }
  lwork = (blasint)wq;
  liwork = iwq;
  double *work = malloc((size_t)lwork * sizeof(double));
  blasint *iwork = malloc((size_t)liwork * sizeof(blasint));
  if (!work || !iwork) {
    free(work);
    free(iwork);
    job->status = EVD_MEMORY;
    return;
  }
  evd(&jobz, &uplo, &n, job->a, &lda, job->w, work, &lwork, iwork, &liwork, &info, 1, 1);
  free(work);
  free(iwork);
  job->info = (long)info;
  job->status = info > 0 ? EVD_CONVERGE : info < 0 ? EVD_ARGUMENT : EVD_OK;
}

/* The whole decomposition: LAPACK, then values descending and vectors row-major (column k for w[k]). */
static void evd_run(evd_job *job) {
  size_t d = job->d;
  job->status = EVD_OK;
  if (d == 0) return;
  /* The row-major upper triangle is the column-major lower triangle of the same memory. */
  run_dsyevd(job);
  if (job->status != EVD_OK) return;
  double *w = job->w, *a = job->a;
  for (size_t i = 0, j = d - 1; i < j; i++, j--) {
    double t = w[i];
    w[i] = w[j];
    w[j] = t;
  }
  if (!job->vectors) return;
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

/* Throws what went wrong in a job; false if it did. */
static bool evd_ok(napi_env env, const evd_job *job) {
  switch (job->status) {
    case EVD_OK: return true;
    case EVD_QUERY: throw_fmt(env, ERR_PLAIN, "syevd: LAPACK dsyevd workspace query failed (info = %ld)", job->info); break;
    case EVD_RANGE: throw_fmt(env, ERR_RANGE, "syevd: d = %zu needs a LAPACK workspace beyond the BLAS integer range", job->d); break;
    case EVD_MEMORY: throw_fmt(env, ERR_PLAIN, "syevd: out of memory for the LAPACK workspace (d = %zu)", job->d); break;
    case EVD_CONVERGE: throw_fmt(env, ERR_PLAIN, "syevd: LAPACK dsyevd did not converge (info = %ld)", job->info); break;
    case EVD_ARGUMENT: throw_fmt(env, ERR_PLAIN, "syevd: LAPACK dsyevd rejected argument %ld", -job->info); break;
  }
  return false;
}

/*
 * Checks a d x d matrix for syevd (exactly d * d elements, a finite upper triangle) and prepares its
 * job: the values array, and the matrix copied into the vectors array handed back to JS (one d x d
 * copy in all) or, for values only, into memory of its own (*result gets the JS object either way).
 */
static bool evd_prepare(napi_env env, const char *fn, const f64view *m, size_t d, bool want, evd_job *job,
                        napi_value *result) {
  size_t dd;
  if (!mul_dims(env, fn, d, d, &dd)) return false;
  if (m->length != dd) {
    throw_fmt(env, ERR_RANGE, "%s: m has %zu elements, d x d = %zu x %zu needs exactly %zu", fn, m->length, d,
              d, dd);
    return false;
  }
  /* LAPACK may loop or return garbage on NaN/Inf; only the upper triangle is read. */
  for (size_t i = 0; i < d; i++)
    for (size_t j = i; j < d; j++)
      if (!isfinite(m->data[i * d + j])) {
        double v = m->data[i * d + j];
        throw_fmt(env, ERR_RANGE, "%s: m[%zu * d + %zu] is %s; the matrix must be finite", fn, i, j,
                  isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
        return false;
      }
  *job = (evd_job){.d = d, .vectors = want};
  napi_value values, vectors;
  CALL_BOOL(env, napi_create_object(env, result));
  if (!(values = new_f64(env, d, &job->w))) return false;
  CALL_BOOL(env, napi_set_named_property(env, *result, "values", values));
  if (want) {
    if (!(vectors = new_f64(env, dd, &job->a))) return false;
    CALL_BOOL(env, napi_set_named_property(env, *result, "vectors", vectors));
  } else if (d > 0 && !(job->a = malloc(dd * sizeof(double)))) {
    throw_fmt(env, ERR_PLAIN, "%s: out of memory for a %zu x %zu copy", fn, d, d);
    return false;
  }
  if (d > 0) memcpy(job->a, m->data, dd * sizeof(double));
  return true;
}

/* The vectors flag of syevd/syevdMany: a boolean, or undefined/null for false. */
static bool get_vectors_flag(napi_env env, napi_value v, const char *fn, bool *out) {
  *out = false;
  if (is_nullish(env, v)) return true;
  napi_valuetype t;
  CALL_BOOL(env, napi_typeof(env, v, &t));
  if (t != napi_boolean) {
    throw_fmt(env, ERR_TYPE, "%s: vectors must be a boolean, got %s", fn, js_type_name(env, v));
    return false;
  }
  CALL_BOOL(env, napi_get_value_bool(env, v, out));
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
  size_t d;
  bool want = false;
  if (!get_f64(env, argv[0], fn, "m", &m) || !get_dim(env, argv[1], fn, "d", &d)) return NULL;
  if (argc >= 3 && !get_vectors_flag(env, argv[2], fn, &want)) return NULL;
  evd_job job;
  napi_value result;
  if (!evd_prepare(env, fn, &m, d, want, &job, &result)) return NULL;
  evd_run(&job);
  if (!want) free(job.a);
  return evd_ok(env, &job) ? result : NULL;
}

static void evd_range(void *ctx, size_t begin, size_t end, size_t worker) {
  (void)worker;
  for (size_t k = begin; k < end; k++) evd_run((evd_job *)ctx + k);
}

/*
 * syevdMany(ms, vectors?): syevd of each square matrix of the array `ms` (d from its length), side
 * by side: as many at once as OpenBLAS has threads, each on one of them. LAPACK's tridiagonal
 * reduction is half memory-bound, so two decompositions at once finish sooner than one after the
 * other on two threads (d = 1024 on 2 cores: 148 ms for the pair against 2 x 112 ms).
 */
static napi_value syevd_many(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "syevdMany";
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (!check_argc(env, "syevdMany(ms, vectors?)", argc, 1)) return NULL;
  bool is_array = false, want = false;
  CALL(env, napi_is_array(env, argv[0], &is_array));
  if (!is_array) {
    throw_fmt(env, ERR_TYPE, "%s: ms must be an array of Float64Array, got %s", fn, js_type_name(env, argv[0]));
    return NULL;
  }
  if (argc >= 2 && !get_vectors_flag(env, argv[1], fn, &want)) return NULL;
  uint32_t count;
  CALL(env, napi_get_array_length(env, argv[0], &count));
  napi_value out;
  CALL(env, napi_create_array_with_length(env, count, &out));
  evd_job *jobs = calloc(count ? count : 1, sizeof(evd_job));
  if (!jobs) {
    throw_fmt(env, ERR_PLAIN, "%s: out of memory", fn);
    return NULL;
  }
  bool ok = true;
  uint32_t ready = 0;
  for (; ok && ready < count; ready++) {
    napi_value item, result;
    f64view m;
    char name[32];
    snprintf(name, sizeof name, "ms[%u]", ready);
    ok = napi_ok_or_throw(env, napi_get_element(env, argv[0], ready, &item), "napi_get_element") &&
         get_f64(env, item, fn, name, &m);
    if (!ok) break;
    size_t d = (size_t)llround(sqrt((double)m.length));
    if (d * d != m.length) {
      throw_fmt(env, ERR_RANGE, "%s: %s has %zu elements, which is no d x d", fn, name, m.length);
      ok = false;
      break;
    }
    ok = evd_prepare(env, fn, &m, d, want, &jobs[ready], &result) &&
         napi_ok_or_throw(env, napi_set_element(env, out, ready, result), "napi_set_element");
    if (!ok) break;
  }
  if (ok && count > 0) {
    int threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    run_parallel(threads < 1 ? 1 : (size_t)threads, count, evd_range, jobs);
    openblas_set_num_threads(threads);
  }
  for (uint32_t k = 0; k < count; k++) {
    if (ok && k < ready) ok = evd_ok(env, &jobs[k]);
    if (!want) free(jobs[k].a);
  }
  free(jobs);
  return ok ? out : NULL;
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
/* Argument v as rows: a Float64Array or a Float32Array of at least `need` elements. */
static bool arg_rows(napi_env env, napi_value v, const char *fn, const char *name, size_t need, pk_rows *out) {
  bool is_ta = false;
  napi_typedarray_type t = napi_float64_array;
  if (!napi_ok_or_throw(env, napi_is_typedarray(env, v, &is_ta), "napi_is_typedarray")) return false;
  if (is_ta && !napi_ok_or_throw(env, napi_get_typedarray_info(env, v, &t, NULL, NULL, NULL, NULL),
                                 "napi_get_typedarray_info"))
    return false;
  /* Anything else goes to arg_view for its message, which names the float64 type. */
  bool f32 = is_ta && t == napi_float32_array;
  view x;
  if (!arg_view(env, v, fn, name, f32 ? napi_float32_array : napi_float64_array, need, false, &x)) return false;
  out->data = x.data;
  out->f32 = f32;
  return true;
}

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
  pk_rows x;
  view mean, com, unit, sq, mn, mx, scratch;
  if (!arg_rows(env, argv[0], fn, "x", n, &x) ||
      !arg_view(env, argv[4], fn, "mean", napi_float64_array, dims, true, &mean) ||
      !arg_view(env, argv[5], fn, "comoment", napi_float64_array, dd, true, &com) ||
      !arg_view(env, argv[6], fn, "unitSum", napi_float64_array, dims, true, &unit) ||
      !arg_view_opt(env, argv[7], fn, "unitSq", napi_float64_array, dims, true, &sq) ||
      !arg_view(env, argv[8], fn, "min", napi_float64_array, dims, true, &mn) ||
      !arg_view(env, argv[9], fn, "max", napi_float64_array, dims, true, &mx) ||
      !arg_view(env, argv[10], fn, "scratch", napi_float64_array, sn, false, &scratch))
    return NULL;
  if (overlaps(scratch.data, sn, x.data, x.f32 ? (n + 1) / 2 : n) || overlaps(scratch.data, sn, com.data, dd)) {
    throw_fmt(env, ERR_RANGE, "%s: scratch must not share memory with x or comoment", fn);
    return NULL;
  }
  if (dims == 0) return size_result(env, 0);
  return size_result(env, pk_moments_block(x, rows, dims, count, mean.data, com.data, unit.data, sq.data,
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
  pk_rows x;
  view center, dir, xs, out;
  if (!arg_rows(env, argv[0], fn, "x", n, &x) ||
      !arg_view(env, argv[3], fn, "center", napi_float64_array, dims, true, &center) ||
      !arg_view(env, argv[4], fn, "dir", napi_float32_array, dc, true, &dir) ||
      !arg_view(env, argv[6], fn, "xs", napi_float32_array, n, false, &xs) ||
      !arg_view(env, argv[7], fn, "out", napi_float32_array, rc, false, &out))
    return NULL;
  pk_project_f32(x, rows, dims, center.data, dir.data, cols, xs.data, out.data);
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
  pk_rows x;
  view scale, unit;
  if (!arg_rows(env, argv[0], fn, "x", n, &x) ||
      !arg_view(env, argv[3], fn, "scale", napi_float64_array, dims, true, &scale) ||
      !arg_view(env, argv[4], fn, "unit", napi_float64_array, dims, true, &unit))
    return NULL;
  double *row = NULL;
  if (x.f32 && rows > 0 && dims > 0 && !(row = malloc(dims * sizeof(double)))) {
    throw_fmt(env, ERR_PLAIN, "%s: out of memory for a row of %zu values", fn, dims);
    return NULL;
  }
  size_t added = pk_scaled_unit_rows(x, rows, dims, scale.data, unit.data, row);
  free(row);
  return size_result(env, added);
}

/* zeroRows(x, rows, dims, flags): flags[r] = 1 where row r is all zeros, else 0. */
static napi_value zero_rows(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "zeroRows";
  ARGS(4, "zeroRows(x, rows, dims, flags)");
  size_t rows, dims, n;
  static const char *names[2] = {"rows", "dims"};
  if (!arg_dims(env, argv + 1, fn, names, &rows, &dims, &n)) return NULL;
  pk_rows x;
  view flags;
  if (!arg_rows(env, argv[0], fn, "x", n, &x) ||
      !arg_view(env, argv[3], fn, "flags", napi_uint8_array, rows, false, &flags))
    return NULL;
  pk_zero_rows(x, rows, dims, flags.data);
  return NULL;
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

/* ============================================================================================ */
/* Encoder kernels (issue 14, speed-extract): the float32 BERT / RoBERTa forward pass behind    */
/* src/extract/native-encoder.ts. Everything in this block is float32 (Float32Array). The dense */
/* products (QKV, attention output, FFN, and per (sentence, head) the two attention products)   */
/* run on cblas_sgemm with OpenBLAS's own threads; the element-wise work (bias, masked softmax,  */
/* GELU, residual + LayerNorm) runs on the calling thread, in loops the compiler vectorises     */
/* (cloned for AVX-512 and AVX2 where GCC can, plain C elsewhere).                              */
/* ============================================================================================ */

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O3")
#endif

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define ENC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ENC_CLONES
#endif

/* encoderLayer's act codes, hidden_act in config.json. */
enum { ENC_GELU = 0, ENC_GELU_TANH = 1, ENC_RELU = 2 };

static bool get_f32(napi_env env, napi_value v, const char *fn, const char *name, float **data, size_t *len) {
  bool is_ta = false;
  if (!napi_ok_or_throw(env, napi_is_typedarray(env, v, &is_ta), "napi_is_typedarray")) return false;
  if (!is_ta) {
    throw_fmt(env, ERR_TYPE, "%s: %s must be a Float32Array, got %s", fn, name, js_type_name(env, v));
    return false;
  }
  napi_typedarray_type t;
  size_t n = 0;
  void *raw = NULL;
  if (!napi_ok_or_throw(env, napi_get_typedarray_info(env, v, &t, &n, &raw, NULL, NULL), "napi_get_typedarray_info"))
    return false;
  if (t != napi_float32_array) {
    throw_fmt(env, ERR_TYPE, "%s: %s must be a Float32Array, got a %s", fn, name, typed_array_name(t));
    return false;
  }
  *data = (float *)raw;
  *len = raw ? n : 0;
  return true;
}

/* A Float32Array property of an object, of exactly `need` elements (need 0: any length, returned in *len). */
static bool get_f32_prop(napi_env env, napi_value obj, const char *fn, const char *name, size_t need, float **data,
                         size_t *len) {
  napi_value v;
  bool has = false;
  if (!napi_ok_or_throw(env, napi_has_named_property(env, obj, name, &has), "napi_has_named_property")) return false;
  if (!has) {
    throw_fmt(env, ERR_TYPE, "%s: weights.%s is missing", fn, name);
    return false;
  }
  if (!napi_ok_or_throw(env, napi_get_named_property(env, obj, name, &v), "napi_get_named_property")) return false;
  size_t n = 0;
  if (!get_f32(env, v, fn, name, data, &n)) return false;
  if (need != 0 && n != need) {
    throw_fmt(env, ERR_RANGE, "%s: weights.%s has %zu elements, expected %zu", fn, name, n, need);
    return false;
  }
  if (len) *len = n;
  return true;
}

static bool get_number(napi_env env, napi_value v, const char *fn, const char *name, double *out) {
  napi_valuetype t;
  if (!napi_ok_or_throw(env, napi_typeof(env, v, &t), "napi_typeof")) return false;
  if (t != napi_number) {
    throw_fmt(env, ERR_TYPE, "%s: %s must be a number, got %s", fn, name, js_type_name(env, v));
    return false;
  }
  return napi_ok_or_throw(env, napi_get_value_double(env, v, out), "napi_get_value_double");
}

static inline float enc_bits_to_float(int32_t i) {
  float f;
  memcpy(&f, &i, sizeof f);
  return f;
}

/*
 * e^x in float32 (Cephes' expf reduction and polynomial, about 1 ulp), branch-free so that loops
 * over it vectorise. Below -87.3 it returns 0 (masked attention keys must weigh exactly nothing);
 * above 88 it saturates at e^88 (only reached by a sigmoid's far tail, where 1/(1+e^88) ~ 0 anyway).
 */
static inline float enc_expf(float x) {
  const float lo = -87.3f, hi = 88.0f;
  float xc = x < lo ? lo : (x > hi ? hi : x);
  /* n = round(x / ln 2) through the 1.5 * 2^23 trick: exact in round-to-nearest, no libm call */
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  float scale = enc_bits_to_float(((int32_t)n + 127) << 23);
  return x < lo ? 0.0f : p * scale;
}

/*
 * transformers' exact "gelu", 0.5 x (1 + erf(x / sqrt 2)), with erf from Abramowitz & Stegun
 * 7.1.26 (|error| < 1.5e-7, the formula tfjs uses too). 1 + erf(z) is formed as erfc(|z|) for
 * z < 0 and 2 - erfc(z) otherwise, so the far negative tail has no cancellation.
 */
static inline float enc_gelu_erf(float x) {
  float z = x * 0.70710678118654752f;
  float a = z < 0 ? -z : z;
  float t = 1.0f / (1.0f + 0.3275911f * a);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  float erfc = p * t * enc_expf(-a * a);
  return 0.5f * x * (z < 0 ? erfc : 2.0f - erfc);
}

/* "gelu_new": 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3). */
static inline float enc_gelu_tanh(float x) {
  float u2 = 1.5957691216057308f * (x + 0.044715f * x * x * x);
  return x / (1.0f + enc_expf(-u2));
}

/* y[r][0..cols) += b for rows at stride ld. */
ENC_CLONES static void enc_add_bias(float *y, size_t rows, size_t cols, size_t ld, const float *b) {
  for (size_t r = 0; r < rows; r++) {
    float *row = y + r * ld;
    for (size_t j = 0; j < cols; j++) row[j] += b[j];
  }
}

/* y = act(y + b) over rows x cols (contiguous). */
ENC_CLONES static void enc_bias_act(float *y, size_t rows, size_t cols, const float *b, int act) {
  for (size_t r = 0; r < rows; r++) {
    float *row = y + r * cols;
    if (act == ENC_GELU)
      for (size_t j = 0; j < cols; j++) row[j] = enc_gelu_erf(row[j] + b[j]);
    else if (act == ENC_GELU_TANH)
      for (size_t j = 0; j < cols; j++) row[j] = enc_gelu_tanh(row[j] + b[j]);
    else
      for (size_t j = 0; j < cols; j++) {
        float v = row[j] + b[j];
        row[j] = v > 0 ? v : 0;
      }
  }
}

/*
 * Softmax of each of `rows` rows of s (length n) after adding the key bias kb. The max and the sum
 * run in 16 independent lanes: a plain float reduction would not vectorise without -ffast-math.
 */
ENC_CLONES static void enc_softmax_rows(float *s, size_t rows, size_t n, const float *kb) {
  enum { L = 16 };
  for (size_t r = 0; r < rows; r++) {
    float *row = s + r * n;
    float lane[L];
    for (size_t k = 0; k < L; k++) lane[k] = -INFINITY;
    size_t j = 0;
    for (; j + L <= n; j += L)
      for (size_t k = 0; k < L; k++) {
        float v = row[j + k] + kb[j + k];
        row[j + k] = v;
        lane[k] = v > lane[k] ? v : lane[k];
      }
    float m = -INFINITY;
    for (; j < n; j++) {
      row[j] += kb[j];
      m = row[j] > m ? row[j] : m;
    }
    for (size_t k = 0; k < L; k++) m = lane[k] > m ? lane[k] : m;
    for (j = 0; j < n; j++) row[j] = enc_expf(row[j] - m);
    for (size_t k = 0; k < L; k++) lane[k] = 0;
    for (j = 0; j + L <= n; j += L)
      for (size_t k = 0; k < L; k++) lane[k] += row[j + k];
    float sum = 0;
    for (; j < n; j++) sum += row[j];
    for (size_t k = 0; k < L; k++) sum += lane[k];
    float inv = 1.0f / sum;
    for (j = 0; j < n; j++) row[j] *= inv;
  }
}

/*
 * LayerNorm of v (length d) into out: (v - mean) / sqrt(var + eps) * g + beta, the mean and the
 * biased variance accumulated in float64 lanes. out may equal v.
 */
ENC_CLONES static void enc_layer_norm_row(const float *v, float *out, size_t d, const float *g, const float *beta,
                                          double eps) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t j = 0;
  for (; j + 8 <= d; j += 8)
    for (size_t k = 0; k < 8; k++) acc[k] += v[j + k];
  double sum = 0;
  for (; j < d; j++) sum += v[j];
  for (size_t k = 0; k < 8; k++) sum += acc[k];
  double mean = sum / (double)d;
  for (size_t k = 0; k < 8; k++) acc[k] = 0;
  j = 0;
  for (; j + 8 <= d; j += 8)
    for (size_t k = 0; k < 8; k++) {
      double c = v[j + k] - mean;
      acc[k] += c * c;
    }
  double ss = 0;
  for (; j < d; j++) ss += (v[j] - mean) * (v[j] - mean);
  for (size_t k = 0; k < 8; k++) ss += acc[k];
  float inv = (float)(1.0 / sqrt(ss / (double)d + eps));
  float mf = (float)mean;
  for (j = 0; j < d; j++) out[j] = (v[j] - mf) * inv * g[j] + beta[j];
}

/*
 * For query row r (r < rows): y[r] += b + x[res(r)], then x[r] = LayerNorm(y[r]); res(r) = r * rstride.
 * With rstride > 1 (the [CLS]-only last layer) the rows are compacted to the front of x; since
 * r <= r * rstride and rows are visited in order, no residual row is overwritten before it is read.
 */
ENC_CLONES static void enc_residual_norm(float *y, float *x, size_t rows, size_t rstride, size_t d, const float *b,
                                         const float *g, const float *beta, double eps) {
  for (size_t r = 0; r < rows; r++) {
    float *yr = y + r * d;
    const float *xr = x + r * rstride * d;
    for (size_t j = 0; j < d; j++) yr[j] += b[j] + xr[j];
    enc_layer_norm_row(yr, x + r * d, d, g, beta, eps);
  }
}

/* C (m x n, ldc) = A (m x k, lda) B^T, with B given as n x k (ldb): HF Linear's [out, in] weights. */
static void enc_gemm_nt(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb, float *c,
                        size_t ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)m, (blasint)n, (blasint)k, 1.0f, a, (blasint)lda, b,
              (blasint)ldb, 0.0f, c, (blasint)ldc);
}

/* The attention of one layer: items are (sentence, head) pairs; each worker has its own score block. */
typedef struct {
  const float *qkv, *kb;
  float *ctx, *s;
  size_t T, tq, H, d, dh;
} enc_attn_ctx;

static void enc_attn_range(void *p, size_t begin, size_t end, size_t worker) {
  const enc_attn_ctx *a = (const enc_attn_ctx *)p;
  const size_t T = a->T, tq = a->tq, d = a->d, dh = a->dh, d3 = 3 * d;
  float *s = a->s + worker * T * T;
  for (size_t i = begin; i < end; i++) {
    size_t b = i / a->H, h = i % a->H;
    const float *q = a->qkv + b * T * d3 + h * dh, *k = q + d, *v = q + 2 * d;
    enc_gemm_nt(tq, T, dh, q, d3, k, d3, s, T);
    enc_softmax_rows(s, tq, T, a->kb + b * T);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)tq, (blasint)dh, (blasint)T, 1.0f, s, (blasint)T, v,
                (blasint)d3, 0.0f, a->ctx + b * tq * d + h * dh, (blasint)d);
  }
}

typedef struct {
  float *y;
  size_t cols, ld;
  const float *b;
  int act;
} enc_rows_ctx;

static void enc_add_bias_range(void *p, size_t begin, size_t end, size_t worker) {
  const enc_rows_ctx *a = (const enc_rows_ctx *)p;
  (void)worker;
  enc_add_bias(a->y + begin * a->ld, end - begin, a->cols, a->ld, a->b);
}

static void enc_bias_act_range(void *p, size_t begin, size_t end, size_t worker) {
  const enc_rows_ctx *a = (const enc_rows_ctx *)p;
  (void)worker;
  enc_bias_act(a->y + begin * a->cols, end - begin, a->cols, a->b, a->act);
}

typedef struct {
  float *y, *x;
  size_t d;
  const float *b, *g, *beta;
  double eps;
} enc_norm_ctx;

/* Rows are independent when rstride is 1 (in place, row r to row r), so they can be split. */
static void enc_residual_norm_range(void *p, size_t begin, size_t end, size_t worker) {
  const enc_norm_ctx *a = (const enc_norm_ctx *)p;
  (void)worker;
  enc_residual_norm(a->y + begin * a->d, a->x + begin * a->d, end - begin, 1, a->d, a->b, a->g, a->beta, a->eps);
}

/* Workers for this process: OpenBLAS's thread count, so that --threads means the same for both parts. */
static size_t enc_workers(void) {
  int t = openblas_get_num_threads();
  return t < 1 ? 1 : t > MAX_WORKERS ? MAX_WORKERS : (size_t)t;
}

/* Floats of workspace encoderLayer needs for a batch x seq batch of width d and FFN width f, with `workers` score blocks. */
static size_t enc_workspace(size_t batch, size_t seq, size_t d, size_t f, size_t workers) {
  size_t n = batch * seq;
  size_t wide = 3 * d > f ? 3 * d : f;
  return n * wide + 2 * n * d + workers * seq * seq;
}

/*
 * encoderWorkspace(batch, seq, hidden, intermediate): the floats `work` should hold for encoderLayer
 * at OpenBLAS's current thread count (one seq x seq score block per thread; with less, encoderLayer
 * uses fewer threads for the attention, down to one block).
 */
static napi_value encoder_workspace(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "encoderWorkspace";
  size_t argc = 4;
  napi_value argv[4];
  CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (!check_argc(env, "encoderWorkspace(batch, seq, hidden, intermediate)", argc, 4)) return NULL;
  size_t b, t, d, f;
  if (!get_dim(env, argv[0], fn, "batch", &b) || !get_dim(env, argv[1], fn, "seq", &t) ||
      !get_dim(env, argv[2], fn, "hidden", &d) || !get_dim(env, argv[3], fn, "intermediate", &f))
    return NULL;
  double need = (double)b * t * ((3.0 * d > f ? 3.0 * d : f) + 2.0 * d) + (double)enc_workers() * t * t;
  if (need > (double)(SIZE_MAX / sizeof(float)) || need > 9007199254740991.0) {
    throw_fmt(env, ERR_RANGE, "%s: %zu x %zu tokens of width %zu do not fit in memory", fn, b, t, d);
    return NULL;
  }
  napi_value out;
  CALL(env, napi_create_double(env, need, &out));
  return out;
}

/*
 * encoderLayer(x, batch, seq, heads, weights, keyBias, act, eps, work, clsOnly): one transformer
 * layer over x (batch * seq rows of d floats, row-major), in place. weights: { qkvW [3d x d]
 * (query rows pre-scaled by 1/sqrt(d/heads)), qkvB [3d], oW [d x d], oB, ln1G, ln1B [d],
 * iW [f x d], iB [f], fW [d x f], fB, ln2G, ln2B [d] } in HF's [out, in] layout. keyBias: batch *
 * seq additive attention biases (0 or a large negative number for padding). act: 0 gelu, 1
 * gelu_new, 2 relu. clsOnly: compute the output of each sentence's first token only (keys and
 * values still come from every token); they land in x's first `batch` rows.
 */
static napi_value encoder_layer(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "encoderLayer";
  size_t argc = 10;
  napi_value argv[10];
  CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (!check_argc(env, "encoderLayer(x, batch, seq, heads, weights, keyBias, act, eps, work, clsOnly)", argc, 10))
    return NULL;
  float *x, *kb, *work;
  size_t xn, kbn, workn, B, T, H;
  double actd, eps;
  bool cls_only = false;
  if (!get_f32(env, argv[0], fn, "x", &x, &xn) || !get_dim(env, argv[1], fn, "batch", &B) ||
      !get_dim(env, argv[2], fn, "seq", &T) || !get_dim(env, argv[3], fn, "heads", &H) ||
      !get_f32(env, argv[5], fn, "keyBias", &kb, &kbn) || !get_number(env, argv[6], fn, "act", &actd) ||
      !get_number(env, argv[7], fn, "eps", &eps) || !get_f32(env, argv[8], fn, "work", &work, &workn))
    return NULL;
  CALL(env, napi_get_value_bool(env, argv[9], &cls_only));
  if (!(actd == ENC_GELU || actd == ENC_GELU_TANH || actd == ENC_RELU)) {
    throw_fmt(env, ERR_RANGE, "%s: act must be 0 (gelu), 1 (gelu_new) or 2 (relu), got %g", fn, actd);
    return NULL;
  }
  if (!(eps >= 0 && isfinite(eps))) {
    throw_fmt(env, ERR_RANGE, "%s: eps must be a finite number >= 0, got %g", fn, eps);
    return NULL;
  }
  napi_value w = argv[4];
  napi_valuetype wt;
  CALL(env, napi_typeof(env, w, &wt));
  if (wt != napi_object) {
    throw_fmt(env, ERR_TYPE, "%s: weights must be an object, got %s", fn, js_type_name(env, w));
    return NULL;
  }
  float *qkvW, *qkvB, *oW, *oB, *g1, *b1, *iW, *iB, *fW, *fB, *g2, *b2;
  size_t d = 0, f = 0;
  if (!get_f32_prop(env, w, fn, "ln1G", 0, &g1, &d)) return NULL;
  if (!get_f32_prop(env, w, fn, "iB", 0, &iB, &f)) return NULL;
  if (d == 0 || H == 0 || d % H != 0) {
    throw_fmt(env, ERR_RANGE, "%s: hidden size %zu (weights.ln1G) is not a positive multiple of heads %zu", fn, d, H);
    return NULL;
  }
  if (f == 0) {
    throw_fmt(env, ERR_RANGE, "%s: weights.iB is empty", fn);
    return NULL;
  }
  if (!get_f32_prop(env, w, fn, "qkvW", 3 * d * d, &qkvW, NULL) || !get_f32_prop(env, w, fn, "qkvB", 3 * d, &qkvB, NULL) ||
      !get_f32_prop(env, w, fn, "oW", d * d, &oW, NULL) || !get_f32_prop(env, w, fn, "oB", d, &oB, NULL) ||
      !get_f32_prop(env, w, fn, "ln1B", d, &b1, NULL) || !get_f32_prop(env, w, fn, "iW", f * d, &iW, NULL) ||
      !get_f32_prop(env, w, fn, "fW", d * f, &fW, NULL) || !get_f32_prop(env, w, fn, "fB", d, &fB, NULL) ||
      !get_f32_prop(env, w, fn, "ln2G", d, &g2, NULL) || !get_f32_prop(env, w, fn, "ln2B", d, &b2, NULL))
    return NULL;
  size_t N = B * T;
  if (B != 0 && T > SIZE_MAX / B / (3 * d + f + 1)) {
    throw_fmt(env, ERR_RANGE, "%s: %zu x %zu tokens do not fit in memory", fn, B, T);
    return NULL;
  }
  if (xn != N * d) {
    throw_fmt(env, ERR_RANGE, "%s: x has %zu elements, batch x seq x hidden = %zu x %zu x %zu needs exactly %zu", fn, xn,
              B, T, d, N * d);
    return NULL;
  }
  if (kbn != N) {
    throw_fmt(env, ERR_RANGE, "%s: keyBias has %zu elements, batch x seq = %zu needs exactly that", fn, kbn, N);
    return NULL;
  }
  size_t need = enc_workspace(B, T, d, f, 1);
  if (workn < need) {
    throw_fmt(env, ERR_RANGE, "%s: work has %zu elements, this batch needs %zu (encoderWorkspace)", fn, workn, need);
    return NULL;
  }
  if ((uintptr_t)work < (uintptr_t)(x + xn) && (uintptr_t)x < (uintptr_t)(work + need)) {
    throw_fmt(env, ERR_RANGE, "%s: work must not share memory with x", fn);
    return NULL;
  }
  if (N == 0) return NULL;

  const size_t dh = d / H, d3 = 3 * d, wide = d3 > f ? d3 : f;
  const size_t nq = cls_only ? B : N; /* query rows */
  const size_t tq = cls_only ? 1 : T; /* query rows per sentence */
  float *qkv = work, *inter = work, *ctx = work + N * wide, *y = ctx + N * d, *s = y + N * d;
  const int act = (int)actd;
  size_t workers = enc_workers();
  size_t blocks = (workn - (need - T * T)) / (T * T);
  if (workers > blocks) workers = blocks;

  /* Q, K, V: [N, 3d]; with clsOnly, the queries of each sentence's first row only. */
  if (!cls_only) {
    enc_gemm_nt(N, d3, d, x, d, qkvW, d, qkv, d3);
    run_parallel(workers, N, enc_add_bias_range, &(enc_rows_ctx){qkv, d3, d3, qkvB, 0});
  } else {
    enc_gemm_nt(N, 2 * d, d, x, d, qkvW + d * d, d, qkv + d, d3);
    run_parallel(workers, N, enc_add_bias_range, &(enc_rows_ctx){qkv + d, 2 * d, d3, qkvB + d, 0});
    enc_gemm_nt(B, d, d, x, T * d, qkvW, d, qkv, T * d3);
    enc_add_bias(qkv, B, d, T * d3, qkvB);
  }
  /*
   * Attention, per sentence and head: S = Q K^T (tq x T), softmax over keys, ctx = S V. These
   * products are small (T x T x d/heads): split over OpenBLAS's own threads, each would pay a
   * synchronisation and stall whenever one thread is descheduled. So the (sentence, head) pairs
   * are split over our workers instead, each calling single-threaded sgemm (OpenBLAS is set to one
   * thread meanwhile; its pthreads build is safe to call from several threads that way).
   */
  int blas = openblas_get_num_threads();
  if (blas > 1) openblas_set_num_threads(1);
  enc_attn_ctx attn = {qkv, kb, ctx, s, T, tq, H, d, dh};
  run_parallel(workers, B * H, enc_attn_range, &attn);
  if (blas > 1) openblas_set_num_threads(blas);
  /* Output projection, residual, LayerNorm: x[0..nq) = LN(ctx Wo^T + bo + x). */
  enc_gemm_nt(nq, d, d, ctx, d, oW, d, y, d);
  if (cls_only) enc_residual_norm(y, x, nq, T, d, oB, g1, b1, eps); /* compacting rows: in order, on one thread */
  else run_parallel(workers, nq, enc_residual_norm_range, &(enc_norm_ctx){y, x, d, oB, g1, b1, eps});
  /* Feed-forward: x = LN(act(x Wi^T + bi) Wf^T + bf + x). */
  enc_gemm_nt(nq, f, d, x, d, iW, d, inter, f);
  run_parallel(workers, nq, enc_bias_act_range, &(enc_rows_ctx){inter, f, f, iB, act});
  enc_gemm_nt(nq, d, f, inter, f, fW, f, y, d);
  run_parallel(workers, nq, enc_residual_norm_range, &(enc_norm_ctx){y, x, d, fB, g2, b2, eps});
  return NULL;
}

/* layerNormRows(x, rows, g, b, eps): each row of x (rows x g.length) replaced by its LayerNorm. */
static napi_value layer_norm_rows(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "layerNormRows";
  size_t argc = 5;
  napi_value argv[5];
  CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (!check_argc(env, "layerNormRows(x, rows, g, b, eps)", argc, 5)) return NULL;
  float *x, *g, *b;
  size_t xn, rows, d, bn;
  double eps;
  if (!get_f32(env, argv[0], fn, "x", &x, &xn) || !get_dim(env, argv[1], fn, "rows", &rows) ||
      !get_f32(env, argv[2], fn, "g", &g, &d) || !get_f32(env, argv[3], fn, "b", &b, &bn) ||
      !get_number(env, argv[4], fn, "eps", &eps))
    return NULL;
  if (bn != d || d == 0) {
    throw_fmt(env, ERR_RANGE, "%s: g and b must have the same positive length, got %zu and %zu", fn, d, bn);
    return NULL;
  }
  if (!(eps >= 0 && isfinite(eps))) {
    throw_fmt(env, ERR_RANGE, "%s: eps must be a finite number >= 0, got %g", fn, eps);
    return NULL;
  }
  if (rows > SIZE_MAX / d || xn != rows * d) {
    throw_fmt(env, ERR_RANGE, "%s: x has %zu elements, rows x %zu needs exactly %zu", fn, xn, d, rows * d);
    return NULL;
  }
  for (size_t r = 0; r < rows; r++) enc_layer_norm_row(x + r * d, x + r * d, d, g, b, eps);
  return NULL;
}

/* linearF32(x, rows, w, bias, out): out = x W^T + bias, W [out x in] (HF Linear), all float32. */
static napi_value linear_f32(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "linearF32";
  size_t argc = 5;
  napi_value argv[5];
  CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (!check_argc(env, "linearF32(x, rows, w, bias, out)", argc, 5)) return NULL;
  float *x, *w, *b, *y;
  size_t xn, rows, wn, no, yn;
  if (!get_f32(env, argv[0], fn, "x", &x, &xn) || !get_dim(env, argv[1], fn, "rows", &rows) ||
      !get_f32(env, argv[2], fn, "w", &w, &wn) || !get_f32(env, argv[3], fn, "bias", &b, &no) ||
      !get_f32(env, argv[4], fn, "out", &y, &yn))
    return NULL;
  if (no == 0 || wn % no != 0) {
    throw_fmt(env, ERR_RANGE, "%s: w has %zu elements, not a multiple of bias's %zu outputs", fn, wn, no);
    return NULL;
  }
  size_t ni = wn / no;
  if (ni == 0 || rows > SIZE_MAX / (ni > no ? ni : no) || xn != rows * ni || yn != rows * no) {
    throw_fmt(env, ERR_RANGE, "%s: x has %zu and out %zu elements; %zu rows of %zu inputs and %zu outputs need %zu and %zu",
              fn, xn, yn, rows, ni, no, rows * ni, rows * no);
    return NULL;
  }
  if (((uintptr_t)y < (uintptr_t)(x + xn) && (uintptr_t)x < (uintptr_t)(y + yn)) ||
      ((uintptr_t)y < (uintptr_t)(w + wn) && (uintptr_t)w < (uintptr_t)(y + yn))) {
    throw_fmt(env, ERR_RANGE, "%s: out must not share memory with x or w", fn);
    return NULL;
  }
  if (rows == 0) return NULL;
  enc_gemm_nt(rows, no, ni, x, ni, w, ni, y, no);
  enc_add_bias(y, rows, no, no, b);
  return NULL;
}

/* blasThreads(n?): sets OpenBLAS's thread count when n (>= 1) is given; returns the count in use. */
static napi_value blas_threads(napi_env env, napi_callback_info cbinfo) {
  static const char *fn = "blasThreads";
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (argc >= 1 && !is_nullish(env, argv[0])) {
    size_t n;
    if (!get_dim(env, argv[0], fn, "n", &n)) return NULL;
    if (n < 1 || n > 4096) {
      throw_fmt(env, ERR_RANGE, "%s: n must be between 1 and 4096, got %zu", fn, n);
      return NULL;
    }
    openblas_set_num_threads((int)n);
  }
  napi_value out;
  CALL(env, napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
/* ===================================== end of encoder kernels ===================================== */

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value version;
  napi_property_descriptor props[] = {
      {"syrkUpper", NULL, syrk_upper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"syevd", NULL, syevd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"syevdMany", NULL, syevd_many, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"momentsBlock", NULL, moments_block, NULL, NULL, NULL, napi_enumerable, NULL},
      {"projectF32", NULL, project_f32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"logSumExpF32", NULL, log_sum_exp_f32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unitRowsF32", NULL, unit_rows_f32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scaledUnitRows", NULL, scaled_unit_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"zeroRows", NULL, zero_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      /* encoder kernels (float32) */
      {"encoderLayer", NULL, encoder_layer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encoderWorkspace", NULL, encoder_workspace, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNormRows", NULL, layer_norm_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"linearF32", NULL, linear_f32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"blasThreads", NULL, blas_threads, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  if (napi_create_uint32(env, ISOTROPY_BLAS_API_VERSION, &version) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "apiVersion", version) != napi_ok) return NULL;
  return exports;
}
