/*
 * The per-block loops of the two passes, next to the BLAS calls they feed (see pass_kernels.h).
 *
 * Written so that the compiler vectorizes them: inner loops run along a row (contiguous), with
 * `omp simd` reductions (-fopenmp-simd: no OpenMP runtime) and a branch-free exp. On x86-64 Linux
 * with GCC >= 12 the hot loops are compiled three times (x86-64-v4 = AVX-512, v3 = AVX2 + FMA,
 * baseline) and the loader picks the one the CPU runs (target_clones), so the build stays portable.
 */
#include "pass_kernels.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define PK_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PK_CLONES
#endif

/*
 * exp(t) for t <= 0, relative error about 2e-16; t below -708 counts as -708 (e^-708 = 3e-308, the
 * smallest value it returns, so that a quotient by it stays finite). Branch-free: t = k ln2 + r
 * with |r| <= ln2 / 2, e^r by its Taylor series to r^13 (truncation below 2e-17), 2^k built in the
 * exponent bits (k >= -1022 here, so never subnormal).
 */
static inline double exp_nonpos(double t) {
  const double shifter = 6755399441055744.0; /* 1.5 * 2^52: adding it rounds to an integer */
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  t = t < -708.0 ? -708.0 : t;
  double kf = t * 1.4426950408889634074 + shifter;
  double k = kf - shifter;
  int64_t kbits;
  memcpy(&kbits, &kf, sizeof kbits);
  int64_t ki = kbits - (int64_t)0x4338000000000000LL; /* the integer k, from the low mantissa bits */
  double r = (t - k * ln2_hi) - k * ln2_lo;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  int64_t sbits = (ki + 1023) << 52;
  double scale;
  memcpy(&scale, &sbits, sizeof scale);
  return p * scale;
}

/*
 * Rows may come as float32, as embedding files store them: the kernels widen them (exactly) in
 * cache instead of the caller decoding the whole block to float64 first. Loops with a reduction
 * (row norms) run on widened rows through the same float64 code, so float32 rows give bit for bit
 * what their float64 copy gives.
 */
static void widen(const float *x, size_t n, double *out) {
#pragma omp simd
  for (size_t i = 0; i < n; i++) out[i] = x[i];
}

/* Block sums, min/max and unit-row sums of the rows; returns the all-zero rows. */
PK_CLONES
static size_t row_sums(const double *x, size_t rows, size_t d, double *sum, double *min, double *max,
                       double *unit, double *unit_sq) {
  size_t zero = 0;
  for (size_t r = 0; r < rows; r++) {
    const double *xr = x + r * d;
    double ss = 0;
#pragma omp simd reduction(+ : ss)
    for (size_t c = 0; c < d; c++) {
      double v = xr[c];
      sum[c] += v;
      ss += v * v;
      min[c] = v < min[c] ? v : min[c];
      max[c] = v > max[c] ? v : max[c];
    }
    if (ss == 0) {
      zero++;
      continue;
    }
    double inv = 1 / sqrt(ss);
    if (unit_sq) {
#pragma omp simd
      for (size_t c = 0; c < d; c++) {
        double u = xr[c] * inv;
        unit[c] += u;
        unit_sq[c] += u * u;
      }
    } else {
#pragma omp simd
      for (size_t c = 0; c < d; c++) unit[c] += xr[c] * inv;
    }
  }
  return zero;
}

/* out = x - mean, row by row; out may be x itself. */
PK_CLONES
static void center_rows(const double *x, size_t rows, size_t d, const double *mean, double *out) {
  for (size_t r = 0; r < rows; r++) {
    const double *xr = x + r * d;
    double *o = out + r * d;
#pragma omp simd
    for (size_t c = 0; c < d; c++) o[c] = xr[c] - mean[c];
  }
}


size_t pk_moments_block(pk_rows x, size_t rows, size_t dims, double count, double *mean, double *comoment,
                        double *unit, double *unit_sq, double *min, double *max, double *scratch) {
  if (rows == 0) return 0;
  /* The extra row first holds the block's sums, then the Chan correction row. */
  double *extra = scratch + rows * dims;
  memset(extra, 0, dims * sizeof(double));
  /* float32 rows are widened into the scratch, where they are then centred in place */
  const double *x64 = x.data;
  if (x.f32) {
    widen(x.data, rows * dims, scratch);
    x64 = scratch;
  }
  size_t zero = row_sums(x64, rows, dims, extra, min, max, unit, unit_sq);
  double nb = (double)rows, n = count + nb;
  for (size_t c = 0; c < dims; c++) extra[c] /= nb;
  center_rows(x64, rows, dims, extra, scratch);
  /*
   * Chan, Golub & LeVeque: M = Ma + Mb + (na nb / n) delta delta^T with delta the difference of the
   * means. One more row sqrt(na nb / n) delta under the centred block makes a single syrk add both
   * Mb and the correction, with no d x d temporary.
   */
  size_t k = rows;
  if (count > 0) {
    double f = sqrt(count * nb / n);
    for (size_t c = 0; c < dims; c++) {
      double delta = extra[c] - mean[c];
      mean[c] += delta * nb / n;
      extra[c] = f * delta;
    }
    k = rows + 1;
  } else {
    memcpy(mean, extra, dims * sizeof(double));
  }
  /* Row-major X is k x dims, so X^T X is "transposed" syrk with n = dims and lda = dims. */
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)dims, (blasint)k, 1.0, scratch, (blasint)dims,
              1.0, comoment, (blasint)dims);
  return zero;
}

PK_CLONES
static void center_rows_f32(pk_rows x, size_t rows, size_t d, const double *center, float *out) {
  for (size_t r = 0; r < rows; r++) {
    float *o = out + r * d;
    if (x.f32) {
      const float *xr = (const float *)x.data + r * d;
#pragma omp simd
      for (size_t c = 0; c < d; c++) o[c] = (float)((double)xr[c] - center[c]);
    } else {
      const double *xr = (const double *)x.data + r * d;
#pragma omp simd
      for (size_t c = 0; c < d; c++) o[c] = (float)(xr[c] - center[c]);
    }
  }
}

void pk_project_f32(pk_rows x, size_t rows, size_t dims, const double *center, const float *dir, size_t cols,
                    float *xs, float *out) {
  if (rows == 0 || cols == 0) return;
  center_rows_f32(x, rows, dims, center, xs);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)rows, (blasint)cols, (blasint)dims, 1.0f, xs,
              (blasint)dims, dir, (blasint)cols, 0.0f, out, (blasint)cols);
}

PK_CLONES
static void column_range(const float *p, size_t rows, size_t cols, double *hi, double *lo) {
  for (size_t j = 0; j < cols; j++) {
    hi[j] = -INFINITY;
    lo[j] = INFINITY;
  }
  for (size_t r = 0; r < rows; r++) {
    const float *pr = p + r * cols;
#pragma omp simd
    for (size_t j = 0; j < cols; j++) {
      double v = pr[j];
      hi[j] = v > hi[j] ? v : hi[j];
      lo[j] = v < lo[j] ? v : lo[j];
    }
  }
}

/* sp[j] += sum_r exp(p + off[j]), sn[j] += sum_r neg[j] / exp(p + off[j]). */
PK_CLONES
static void exp_sums(const float *p, size_t rows, size_t cols, const double *off, const double *neg, double *sp,
                     double *sn) {
  for (size_t r = 0; r < rows; r++) {
    const float *pr = p + r * cols;
#pragma omp simd
    for (size_t j = 0; j < cols; j++) {
      double e = exp_nonpos((double)pr[j] + off[j]);
      sp[j] += e;
      sn[j] += neg[j] / e;
    }
  }
}

/* exp(-p - m) = exp(-mp - mn) / exp(p - mp) needs exp(p - mp) >= e^-700: columns spread wider go plain. */
#define MAX_SPREAD 700.0

void pk_log_sum_exp_f32(const float *p, size_t rows, size_t cols, const double *shift, double *max_pos,
                        double *max_neg, double *sum_pos, double *sum_neg, double *scratch) {
  if (rows == 0 || cols == 0) return;
  double *hi = scratch, *lo = scratch + cols, *off = scratch + 2 * cols, *neg = scratch + 3 * cols;
  double *sp = scratch + 4 * cols, *sn = scratch + 5 * cols;
  column_range(p, rows, cols, hi, lo);
  size_t plain = 0;
  for (size_t j = 0; j < cols; j++) {
    /* Rescale the running sums once per block when a maximum moves, not once per row. */
    double mp = fmax(max_pos[j], hi[j] + shift[j]);
    double mn = fmax(max_neg[j], -(lo[j] + shift[j]));
    if (sum_pos[j] != 0) sum_pos[j] *= exp(max_pos[j] - mp);
    if (sum_neg[j] != 0) sum_neg[j] *= exp(max_neg[j] - mn);
    max_pos[j] = mp;
    max_neg[j] = mn;
    off[j] = shift[j] - mp;
    if (mp + mn <= MAX_SPREAD) neg[j] = exp(-mp - mn);
    else {
      neg[j] = 0;
      plain++;
    }
    sp[j] = 0;
    sn[j] = 0;
  }
  exp_sums(p, rows, cols, off, neg, sp, sn);
  for (size_t j = 0; j < cols; j++) {
    sum_pos[j] += sp[j];
    sum_neg[j] += sn[j];
  }
  if (plain == 0) return;
  for (size_t j = 0; j < cols; j++) {
    if (neg[j] != 0) continue;
    double s = 0, o = -shift[j] - max_neg[j];
    for (size_t r = 0; r < rows; r++) {
      double t = o - (double)p[r * cols + j];
      s += t < -708.0 ? 0.0 : exp_nonpos(t);
    }
    sum_neg[j] += s;
  }
}

PK_CLONES
size_t pk_unit_rows_f32(const float *p, size_t rows, size_t cols, const double *shift, size_t offset,
                        size_t e, double *unit, const uint8_t *skip) {
  size_t added = 0;
  const double *sh = shift + offset;
  for (size_t r = 0; r < rows; r++) {
    if (skip && skip[r]) continue;
    const float *pr = p + r * cols + offset;
    double ss = 0;
#pragma omp simd reduction(+ : ss)
    for (size_t c = 0; c < e; c++) {
      double v = (double)pr[c] + sh[c];
      ss += v * v;
    }
    if (ss == 0) continue;
    added++;
    double inv = 1 / sqrt(ss);
#pragma omp simd
    for (size_t c = 0; c < e; c++) unit[c] += ((double)pr[c] + sh[c]) * inv;
  }
  return added;
}

/* Adds (xr * scale) / |xr * scale| to unit; returns 1, or 0 for a row whose scaled norm is 0. */
PK_CLONES
static size_t scaled_unit_row(const double *xr, size_t dims, const double *scale, double *unit) {
  double ss = 0;
#pragma omp simd reduction(+ : ss)
  for (size_t c = 0; c < dims; c++) {
    double v = xr[c] * scale[c];
    ss += v * v;
  }
  if (ss == 0) return 0;
  double inv = 1 / sqrt(ss);
#pragma omp simd
  for (size_t c = 0; c < dims; c++) unit[c] += xr[c] * scale[c] * inv;
  return 1;
}

size_t pk_scaled_unit_rows(pk_rows x, size_t rows, size_t dims, const double *scale, double *unit,
                           double *row) {
  size_t added = 0;
  for (size_t r = 0; r < rows; r++) {
    const double *xr = (const double *)x.data + r * dims;
    if (x.f32) {
      widen((const float *)x.data + r * dims, dims, row);
      xr = row;
    }
    added += scaled_unit_row(xr, dims, scale, unit);
  }
  return added;
}

void pk_zero_rows(pk_rows x, size_t rows, size_t dims, uint8_t *flags) {
  for (size_t r = 0; r < rows; r++) {
    size_t c = 0;
    if (x.f32) {
      const float *xr = (const float *)x.data + r * dims;
      while (c < dims && xr[c] == 0) c++;
    } else {
      const double *xr = (const double *)x.data + r * dims;
      while (c < dims && xr[c] == 0) c++;
    }
    flags[r] = c == dims ? 1 : 0;
  }
}
