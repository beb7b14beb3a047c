/*
 * The per-block loops of an analysis's two passes (pass_kernels.c): plain C over row-major
 * arrays, no N-API. isotropy_blas.c checks the arguments and calls these.
 */
#ifndef ISOTROPY_PASS_KERNELS_H
#define ISOTROPY_PASS_KERNELS_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* Rows as the caller holds them: float64, or float32 (widened exactly inside the kernels). */
typedef struct {
  const void *data;
  bool f32;
} pk_rows;

/*
 * First pass, one block of `rows` finite rows: adds the block to running statistics of `count`
 * earlier rows (mean, upper-triangle co-moments, unit-row sums, optional squared unit-row sums,
 * min, max) with Chan et al.'s pairwise update. `scratch` holds (rows + 1) * dims doubles.
 * Returns the number of all-zero rows (left out of the unit sums).
 */
size_t pk_moments_block(pk_rows x, size_t rows, size_t dims, double count, double *mean, double *comoment,
                        double *unit, double *unit_sq, double *min, double *max, double *scratch);

/* Second pass: out = f32(x - center) D for the dims x cols float32 D; xs holds rows * dims floats. */
void pk_project_f32(pk_rows x, size_t rows, size_t dims, const double *center, const float *dir, size_t cols,
                    float *xs, float *out);

/*
 * Streaming log-sum-exp over the columns of `rows x cols` float32 projections p, with the float64
 * `shift` added to each column: the partition sums of I(W), both signs (see log-sum-exp.ts).
 * `scratch` holds 5 * cols doubles.
 */
void pk_log_sum_exp_f32(const float *p, size_t rows, size_t cols, const double *shift, double *max_pos,
                        double *max_neg, double *sum_pos, double *sum_neg, double *scratch);

/*
 * Adds row / |row| of columns [offset, offset + e) of p + shift to unit; skips rows whose norm is 0
 * and rows flagged in `skip` (may be NULL). Returns how many rows were added.
 */
size_t pk_unit_rows_f32(const float *p, size_t rows, size_t cols, const double *shift, size_t offset,
                        size_t e, double *unit, const uint8_t *skip);

/*
 * Adds (x * scale) / |x * scale| of each row to unit (a diagonal map's rows, in float64); skips rows
 * whose scaled norm is 0. Returns how many rows were added. `row` holds dims doubles (float32 rows
 * are widened there one at a time).
 */
size_t pk_scaled_unit_rows(pk_rows x, size_t rows, size_t dims, const double *scale, double *unit,
                           double *row);

/* 1 in flags[r] for each row of x whose every value is 0, else 0. */
void pk_zero_rows(pk_rows x, size_t rows, size_t dims, uint8_t *flags);

#endif
