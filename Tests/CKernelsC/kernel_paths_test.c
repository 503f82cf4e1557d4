// kernel_paths_test: every instruction-set path of the C kernels against the portable one.
//
// Built outside SwiftPM (no target in Package.swift names this folder) by scripts/test-aarch64,
// which runs it natively (the x86 paths) and under qemu-user on aarch64 (the NEON paths, with
// and without dot products): no Swift toolchain or ARM machine needed. For each path the CPU
// supports (lk_isa_supported), every kernel runs on the same inputs twice, forced to the
// portable path and to that one (lk_isa_force), and the outputs are compared:
//   - int8 kernels: bit for bit. Their output stages use scales that are powers of two and
//     biases on a dyadic grid, so every float step is exact and the f32 and u8 outputs are a
//     function of the int32 accumulators alone; a "real" stage with arbitrary scales follows,
//     within one float rounding (f32) and ±1 (u8, a rounding tie moved by an FMA).
//   - quantize, dequantize, min/max: bit for bit.
//   - fp32 kernels (sums in another order): within 2e-5 of the case's scale: its largest
//     |output| plus the typical sum of |terms| of one output (what reassociation rounds).
// Inputs are seeded random plus the extremes (A = 255 or 0 against W = -128 or 127), over
// every row remainder, column edge and k tail of the tiles. Prints what it checked; exits 1 on
// any mismatch. Usage: kernel_paths_test [path name ...] (default: every supported path).
#include "CKernels.h"
#include "simd.h"  // lk_qgemm_nchw

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- Random numbers (splitmix64: the same stream on every machine) ---------------------------

static uint64_t rng = 0x5eed;

static uint64_t next64(void) {
  uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Uniform in [lo, hi].
static int rand_int(int lo, int hi) { return lo + (int)(next64() % (uint64_t)(hi - lo + 1)); }
static float rand_float(float lo, float hi) { return lo + (hi - lo) * (float)(next64() >> 40) / (float)(1 << 24); }

static void *alloc_garbage(size_t bytes) {
  uint8_t *p = malloc(bytes + 1);
  for (size_t i = 0; i < bytes; i++) p[i] = (uint8_t)next64();
  return p;
}

// ---- Tallies and comparisons -----------------------------------------------------------------

typedef struct {
  long cases, values, mismatches;
} tally;

static tally now;        // the kernel being checked on the current path
static const char *path; // that path's name
static char where[200];  // the case, for messages

static void mismatch(const char *what, long index, double expected, double got) {
  if (++now.mismatches <= 5)
    fprintf(stderr, "  MISMATCH %s [%s] at %ld: portable %.9g, %s %.9g\n", what, where, index, expected, path, got);
}

static void same_bytes(const void *expected, const void *got, long n, const char *what) {
  const uint8_t *e = expected, *g = got;
  for (long i = 0; i < n; i++)
    if (e[i] != g[i]) mismatch(what, i, e[i], g[i]);
  now.values += n;
}

/// Equal values (so -0 == +0: ReLU may give either) or both NaN.
static void same_floats(const float *expected, const float *got, long n, const char *what) {
  for (long i = 0; i < n; i++)
    if (expected[i] != got[i] && !(isnan(expected[i]) && isnan(got[i]))) mismatch(what, i, expected[i], got[i]);
  now.values += n;
}

/// |got - expected| <= tolerance · (the largest |expected| of the case + terms): `terms` bounds
/// what cancelled out of the outputs (a bias), so that a rounding of it is not a mismatch.
static void close_floats(const float *expected, const float *got, long n, double tolerance, double terms,
                         const char *what) {
  double scale = terms;
  for (long i = 0; i < n; i++) scale = fmax(scale, fabs(expected[i]));
  for (long i = 0; i < n; i++) {
    if (isnan(expected[i]) || isnan(got[i])) {
      if (!(isnan(expected[i]) && isnan(got[i]))) mismatch(what, i, expected[i], got[i]);
    } else if (fabs((double)got[i] - expected[i]) > tolerance * scale) {
      mismatch(what, i, expected[i], got[i]);
    }
  }
  now.values += n;
}

static void within_one(const uint8_t *expected, const uint8_t *got, long n, const char *what) {
  for (long i = 0; i < n; i++)
    if (abs((int)expected[i] - (int)got[i]) > 1) mismatch(what, i, expected[i], got[i]);
  now.values += n;
}

static const double FP32_TOLERANCE = 2e-5;

static void use_path(int isa) {
  if (!lk_isa_force(isa)) {
    fprintf(stderr, "lk_isa_force(%s) failed\n", lk_isa_name(isa));
    exit(2);
  }
}

// ---- int8 inputs and output stages -------------------------------------------------------------

/// How int8 inputs are drawn: uniform, only the extremes mixed, or one extreme pair throughout.
enum { UNIFORM, EXTREMES, MAX_TIMES_MIN, ZERO_TIMES_MIN, PATTERNS };
static const char *pattern_name[] = {"uniform", "extremes", "255x-128", "0x-128"};

static void fill_u8(uint8_t *a, long n, int pattern) {
  for (long i = 0; i < n; i++) {
    switch (pattern) {
    case UNIFORM: a[i] = (uint8_t)next64(); break;
    case EXTREMES: a[i] = next64() & 1 ? 255 : 0; break;
    case MAX_TIMES_MIN: a[i] = 255; break;
    default: a[i] = 0; break;
    }
  }
}

static void fill_s8(int8_t *w, long n, int pattern) {
  for (long i = 0; i < n; i++) {
    switch (pattern) {
    case UNIFORM: w[i] = (int8_t)next64(); break;
    case EXTREMES: w[i] = next64() & 1 ? 127 : -128; break;
    default: w[i] = -128; break;
    }
  }
}

/// Output stages: INTEGER gives f32 = the centred accumulator itself (scales 1, no bias);
/// DYADIC has scales 2^-4..2^-6, a bias on the 2^-6 grid, ReLU and an output scale of 4, all
/// exact in float while |accumulator| < 2^22, so u8 rounding ties are hit exactly; REAL has
/// arbitrary scales.
enum { INTEGER, DYADIC, REAL, STAGES };
static const char *stage_name[] = {"integer", "dyadic", "real"};

typedef struct {
  lk_qoutput q;
  float w_scale[256], bias[256];
} stage;

static void make_stage(stage *s, int kind, int n) {
  memset(s, 0, sizeof *s);
  s->q.a_zero_point = rand_int(0, 255);
  s->q.w_scale = s->w_scale;
  s->q.a_scale = kind == INTEGER ? 1.0f : (kind == DYADIC ? 0.25f : rand_float(0.001f, 0.05f));
  for (int j = 0; j < n; j++) {
    s->w_scale[j] = kind == INTEGER ? 1.0f : (kind == DYADIC ? ldexpf(1.0f, -(j % 3) - 2) : rand_float(0.001f, 0.02f));
    s->bias[j] = kind == DYADIC ? (float)rand_int(-256, 256) / 64.0f : rand_float(-2, 2);
  }
  if (kind != INTEGER) s->q.bias = n % 2 ? s->bias : NULL;
  s->q.relu = kind != INTEGER && n % 3 == 0;
  s->q.out_scale = kind == DYADIC ? 4.0f : rand_float(0.05f, 2.0f);
  s->q.out_zero_point = rand_int(0, 40);
}

/// The exact stages need |accumulator| < 2^22: the extreme patterns reach 255·128·k (kept
/// under 2^20 for margin); uniform inputs stay far below it.
static int stage_fits(int kind, int pattern, int k) {
  return kind == REAL || pattern == UNIFORM || 255L * 128 * k < (1L << 20);
}

// ---- int8 GEMM ---------------------------------------------------------------------------------

typedef struct {
  int m, n, k, lda, ldy, nchw, u8;
} qgemm_case;

static void run_qgemm(const qgemm_case *c, const uint8_t *a, const void *packed, const lk_qoutput *q, void *y) {
  if (c->nchw)
    lk_qgemm_nchw(c->m, c->n, c->k, a, c->lda, packed, q, c->u8 ? NULL : y, c->u8 ? y : NULL);
  else
    lk_qgemm_f32(c->m, c->n, c->k, a, c->lda, packed, q, y, c->ldy);
}

static void qgemm_one(int isa, const qgemm_case *c, int pattern, int kind) {
  snprintf(where, sizeof where, "m %d n %d k %d lda %d %s %s %s %s", c->m, c->n, c->k, c->lda,
           c->nchw ? "nchw" : "row-major", c->u8 ? "u8" : "f32", pattern_name[pattern], stage_name[kind]);
  uint8_t *a = alloc_garbage((size_t)c->m * c->lda);
  for (int i = 0; i < c->m; i++) fill_u8(a + (long)i * c->lda, c->k, pattern);
  int8_t *w = malloc((size_t)c->n * c->k);
  fill_s8(w, (long)c->n * c->k, pattern == ZERO_TIMES_MIN ? MAX_TIMES_MIN : pattern);
  void *packed = malloc(lk_qgemm_pack_size(c->n, c->k));
  lk_qgemm_pack(w, c->n, c->k, packed);
  stage s;
  make_stage(&s, kind, c->n);
  // Row-major f32 rows have ldy >= n; the gap, and everything else, must stay as it was.
  const long count = c->nchw ? (long)c->m * c->n : (long)c->m * c->ldy;
  const size_t bytes = (size_t)count * (c->u8 ? 1 : sizeof(float));
  void *expected = alloc_garbage(bytes), *got = malloc(bytes);
  memcpy(got, expected, bytes);
  use_path(LK_ISA_PORTABLE);
  run_qgemm(c, a, packed, &s.q, expected);
  use_path(isa);
  run_qgemm(c, a, packed, &s.q, got);
  now.cases++;
  if (c->u8 && kind == REAL)
    within_one(expected, got, count, "qgemm u8");
  else if (c->u8)
    same_bytes(expected, got, count, "qgemm u8");
  else if (kind == REAL)
    close_floats(expected, got, count, 1e-6, 2, "qgemm f32");
  else
    same_floats(expected, got, count, "qgemm f32");
  free(a), free(w), free(packed), free(expected), free(got);
}

/// Every row remainder of 4 and 8-row tiles, column edges of 16-column panels and of 2, 4 and
/// 8-panel tiles, and k tails of 4-byte groups and 16-byte loads.
static void check_qgemm(int isa) {
  static const int ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13};
  static const int ns[] = {1, 3, 15, 16, 17, 33, 64, 129};
  static const int ks[] = {1, 2, 3, 4, 5, 7, 8, 13, 15, 16, 17, 31, 32, 33, 64, 65, 100, 257};
  int index = 0;
  for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
    for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
      for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++, index++) {
        const int k = ks[ki];
        // A quarter each: row-major f32, NCHW f32, NCHW u8, row-major f32.
        const int nchw = index % 4 == 1 || index % 4 == 2, u8 = index % 4 == 2;
        qgemm_case c = {ms[mi], ns[ni], k, k + (index % 3) * 5, ns[ni] + index % 2, nchw, u8};
        for (int pattern = 0; pattern < PATTERNS; pattern++)
          for (int kind = 0; kind < STAGES; kind++)
            if (stage_fits(kind, pattern, k) && (c.u8 ? kind != INTEGER : 1)) qgemm_one(isa, &c, pattern, kind);
      }
  // Long k: the unrolled loops' steady state.
  static const int long_k[] = {1030, 4099};
  for (int t = 0; t < 2; t++) {
    qgemm_case c = {t ? 5 : 1, t ? 40 : 17, long_k[t], long_k[t], t ? 40 : 17, 0, 0};
    qgemm_one(isa, &c, UNIFORM, REAL);
    qgemm_one(isa, &c, UNIFORM, INTEGER);
  }
}

// ---- int8 convolution ----------------------------------------------------------------------------

/// A random geometry with at least one output pixel; strides up to max_stride, mostly 1 (the
/// columns method's direct plan).
static lk_window random_window(int max_stride) {
  lk_window w;
  memset(&w, 0, sizeof w);
  do {
    w.batch = 1;
    w.channels = rand_int(1, 9);
    w.height = rand_int(1, 20);
    w.width = rand_int(1, 20);
    w.kernel_h = rand_int(1, 5);
    w.kernel_w = rand_int(1, 5);
    w.stride_h = rand_int(1, 4) > 3 ? rand_int(2, max_stride) : 1;
    w.stride_w = rand_int(1, 4) > 3 ? rand_int(2, max_stride) : 1;
    w.dilation_h = rand_int(1, 5) > 4 ? 2 : 1;
    w.dilation_w = rand_int(1, 5) > 4 ? 2 : 1;
    w.pad_top = rand_int(0, 2);
    w.pad_left = rand_int(0, 2);
    w.pad_bottom = rand_int(0, 2);
    w.pad_right = rand_int(0, 2);
    w.out_h = (w.height + w.pad_top + w.pad_bottom - w.dilation_h * (w.kernel_h - 1) - 1) / w.stride_h + 1;
    w.out_w = (w.width + w.pad_left + w.pad_right - w.dilation_w * (w.kernel_w - 1) - 1) / w.stride_w + 1;
  } while (w.height + w.pad_top + w.pad_bottom < w.dilation_h * (w.kernel_h - 1) + 1 ||
           w.width + w.pad_left + w.pad_right < w.dilation_w * (w.kernel_w - 1) + 1);
  return w;
}

static void qconv_one(int isa, lk_window *w, int out_channels, int method, int u8, int pattern, int kind) {
  snprintf(where, sizeof where, "%s c %d %dx%d k %dx%d s %d,%d d %d,%d pad %d,%d,%d,%d out %d %s %s %s",
           method == LK_QCONV_ROWS ? "rows" : "columns", w->channels, w->height, w->width, w->kernel_h, w->kernel_w,
           w->stride_h, w->stride_w, w->dilation_h, w->dilation_w, w->pad_top, w->pad_left, w->pad_bottom,
           w->pad_right, out_channels, u8 ? "u8" : "f32", pattern_name[pattern], stage_name[kind]);
  const int k = w->channels * w->kernel_h * w->kernel_w;
  const long pixels = (long)w->out_h * w->out_w, count = pixels * out_channels + 1;  // + 1: a sentinel
  uint8_t *x = malloc((size_t)w->channels * w->height * w->width);
  fill_u8(x, (long)w->channels * w->height * w->width, pattern);
  int8_t *weight = malloc((size_t)out_channels * k);
  fill_s8(weight, (long)out_channels * k, pattern == ZERO_TIMES_MIN ? MAX_TIMES_MIN : pattern);
  void *packed = malloc(lk_qgemm_pack_size(out_channels, k));
  lk_qgemm_pack(weight, out_channels, k, packed);
  stage s;
  make_stage(&s, kind, out_channels);
  const size_t bytes = (size_t)count * (u8 ? 1 : sizeof(float));
  void *expected = alloc_garbage(bytes), *got = malloc(bytes);
  memcpy(got, expected, bytes);
  // Garbage scratch, different for each run: nothing may depend on what it held.
  void *scratch = alloc_garbage(lk_qconv2d_scratch_size(w));
  lk_qconv2d_force(method);
  use_path(LK_ISA_PORTABLE);
  lk_qconv2d_image(w, x, packed, out_channels, &s.q, u8 ? NULL : expected, u8 ? expected : NULL, scratch);
  free(scratch);
  scratch = alloc_garbage(lk_qconv2d_scratch_size(w));
  use_path(isa);
  lk_qconv2d_image(w, x, packed, out_channels, &s.q, u8 ? NULL : got, u8 ? got : NULL, scratch);
  lk_qconv2d_force(-1);
  now.cases++;
  if (u8 && kind == REAL)
    within_one(expected, got, count, "qconv u8");
  else if (u8)
    same_bytes(expected, got, count, "qconv u8");
  else if (kind == REAL)
    close_floats(expected, got, count, 1e-6, 2, "qconv f32");
  else
    same_floats(expected, got, count, "qconv f32");
  free(x), free(weight), free(packed), free(expected), free(got), free(scratch);
}

static void check_qconv(int isa) {
  // LeNet-5's two layers, then random geometries.
  lk_window lenet1 = {1, 1, 28, 28, 5, 5, 1, 1, 2, 2, 1, 1, 28, 28, 2, 2};
  lk_window lenet2 = {1, 6, 14, 14, 5, 5, 1, 1, 0, 0, 1, 1, 10, 10, 0, 0};
  for (int method = LK_QCONV_ROWS; method <= LK_QCONV_COLUMNS; method++) {
    qconv_one(isa, &lenet1, 6, method, 0, UNIFORM, REAL);
    qconv_one(isa, &lenet2, 16, method, 1, UNIFORM, DYADIC);
  }
  for (int t = 0; t < 160; t++) {
    lk_window w = random_window(2);
    const int out_channels = t % 5 == 0 ? rand_int(17, 40) : rand_int(1, 16);
    const int pattern = t % PATTERNS, k = w.channels * w.kernel_h * w.kernel_w;
    for (int method = LK_QCONV_ROWS; method <= LK_QCONV_COLUMNS; method++)
      for (int kind = 0; kind < STAGES; kind++)
        if (stage_fits(kind, pattern, k))
          qconv_one(isa, &w, out_channels, method, kind != INTEGER && t % 2, pattern, kind);
  }
}

// ---- Weight-only group-quantized GEMM ------------------------------------------------------------

/// One product; extremes: weights only at the ends of their range.
static void wqgemm_one(int isa, int m, int n, int k, int bits, int group, int extremes, int ldy, int with_bias) {
  snprintf(where, sizeof where, "m %d n %d k %d bits %d group %d%s", m, n, k, bits, group, extremes ? " extremes" : "");
  const int kp = lk_wq_padded(k), groups = (k + group - 1) / group;
  const int lo = bits == 4 ? -8 : -127, hi = bits == 4 ? 7 : 127;
  int8_t *w = malloc((size_t)n * k);
  for (long i = 0; i < (long)n * k; i++) w[i] = (int8_t)(extremes ? (next64() & 1 ? hi : lo) : rand_int(lo, hi));
  void *packed = malloc(lk_wq_row_bytes(k, bits, group) * (size_t)n);
  lk_wq_pack(w, n, k, bits, group, packed);
  float *x = malloc(sizeof(float) * (size_t)m * k), *a_scale = malloc(sizeof(float) * m);
  for (long i = 0; i < (long)m * k; i++) x[i] = rand_float(-3, 3);
  int8_t *a = malloc((size_t)m * kp);
  lk_wq_quantize_rows(x, m, k, a, a_scale);
  float *w_scale = malloc(sizeof(float) * (size_t)n * groups), *bias = malloc(sizeof(float) * n);
  for (int i = 0; i < n * groups; i++) w_scale[i] = rand_float(0.001f, 0.1f);
  for (int j = 0; j < n; j++) bias[j] = rand_float(-1, 1);
  const float *b = with_bias ? bias : NULL;
  const long count = (long)m * ldy;
  float *expected = alloc_garbage(sizeof(float) * count), *got = malloc(sizeof(float) * count);
  memcpy(got, expected, sizeof(float) * count);
  use_path(LK_ISA_PORTABLE);
  lk_wq_gemm_f32(m, n, k, bits, group, a, a_scale, packed, w_scale, NULL, b, expected, ldy);
  use_path(isa);
  lk_wq_gemm_f32(m, n, k, bits, group, a, a_scale, packed, w_scale, NULL, b, got, ldy);
  now.cases++;
  close_floats(expected, got, count, FP32_TOLERANCE, k, "wq gemm");
  free(w), free(packed), free(x), free(a_scale), free(a), free(w_scale), free(bias), free(expected), free(got);
}

/// Both widths, group sizes, k tails of 32-blocks, 1-4 weight rows left over.
static void check_wqgemm(int isa) {
  static const int ks[] = {1, 20, 31, 32, 33, 64, 100, 257};
  static const int groups[] = {32, 64, 128};
  int index = 0;
  for (int bits = 4; bits <= 8; bits += 4)
    for (int gi = 0; gi < 3; gi++)
      for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++)
        for (int m = 1; m <= 5; m += 2)
          for (int n = 1; n <= 9; n += 4, index++)
            wqgemm_one(isa, m, n, ks[ki], bits, groups[gi], index % 3 == 0, n + index % 2, index % 2);
}

// ---- Quantization ------------------------------------------------------------------------------

static void check_quantize(int isa) {
  static const long counts[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000, 4099};
  for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
    for (int variant = 0; variant < 4; variant++) {
      const long n = counts[ci];
      const float scale = variant == 0 ? 0.5f : rand_float(0.001f, 0.2f);
      const int32_t zp = rand_int(0, 255);
      snprintf(where, sizeof where, "count %ld scale %g zp %d variant %d", n, scale, zp, variant);
      float *x = malloc(sizeof(float) * (n + 1));
      for (long i = 0; i < n; i++) {
        switch (variant) {
        case 0: x[i] = (float)rand_int(-600, 600) * 0.25f; break;  // many exact ties at scale 0.5
        case 1: x[i] = rand_float(-30, 30); break;
        case 2: x[i] = (next64() & 1 ? 1 : -1) * ldexpf(rand_float(1, 2), rand_int(-20, 100)); break;  // huge too
        default: x[i] = rand_float(0, 255) * scale; break;
        }
      }
      uint8_t *eu = alloc_garbage(n + 1), *gu = malloc(n + 1);
      memcpy(gu, eu, n + 1);
      int8_t *es = alloc_garbage(n + 1), *gs = malloc(n + 1);
      memcpy(gs, es, n + 1);
      float lo[2], hi[2];
      use_path(LK_ISA_PORTABLE);
      lk_quantize_u8(x, n, scale, zp, eu);
      lk_quantize_s8(x, n, scale, es);
      lk_minmax_f32(x, n, &lo[0], &hi[0]);
      use_path(isa);
      lk_quantize_u8(x, n, scale, zp, gu);
      lk_quantize_s8(x, n, scale, gs);
      lk_minmax_f32(x, n, &lo[1], &hi[1]);
      now.cases++;
      same_bytes(eu, gu, n + 1, "quantize u8");
      same_bytes(es, gs, n + 1, "quantize s8");
      same_floats(lo, lo + 1, 1, "minmax min");
      same_floats(hi, hi + 1, 1, "minmax max");
      // Dequantizing back: the bytes just made.
      float *ef = alloc_garbage(sizeof(float) * (n + 1)), *gf = malloc(sizeof(float) * (n + 1));
      for (int sign = 0; sign < 2; sign++) {
        memcpy(gf, ef, sizeof(float) * (n + 1));
        float *e2 = malloc(sizeof(float) * (n + 1));
        memcpy(e2, ef, sizeof(float) * (n + 1));
        use_path(LK_ISA_PORTABLE);
        sign ? lk_dequantize_s8(es, n, scale, e2) : lk_dequantize_u8(eu, n, scale, zp, e2);
        use_path(isa);
        sign ? lk_dequantize_s8(es, n, scale, gf) : lk_dequantize_u8(eu, n, scale, zp, gf);
        same_floats(e2, gf, n + 1, sign ? "dequantize s8" : "dequantize u8");
        free(e2);
      }
      free(x), free(eu), free(gu), free(es), free(gs), free(ef), free(gf);
    }
  }
}

// ---- fp32 packed-weight GEMM ---------------------------------------------------------------------

static void check_packed_gemm(int isa) {
  static const int ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 20};
  static const int ns[] = {1, 5, 16, 17, 31, 32, 33, 48, 100};
  static const int ks[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 64, 100, 300};
  int index = 0;
  for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
    for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
      for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++, index++) {
        const int m = ms[mi], n = ns[ni], k = ks[ki], ldx = k + index % 3, ldy = n + (index / 3) % 2;
        snprintf(where, sizeof where, "m %d n %d k %d ldx %d ldy %d", m, n, k, ldx, ldy);
        float *x = malloc(sizeof(float) * (size_t)m * ldx), *w = malloc(sizeof(float) * (size_t)n * k);
        float *bias = malloc(sizeof(float) * n);
        for (long i = 0; i < (long)m * ldx; i++) x[i] = rand_float(-1, 1);
        for (long i = 0; i < (long)n * k; i++) w[i] = rand_float(-1, 1);
        for (int j = 0; j < n; j++) bias[j] = rand_float(-1, 1);
        float *packed = malloc(sizeof(float) * lk_sgemm_packed_floats(n, k));
        lk_sgemm_pack(n, k, w, packed);
        const long count = (long)m * ldy;
        float *expected = alloc_garbage(sizeof(float) * count), *got = malloc(sizeof(float) * count);
        memcpy(got, expected, sizeof(float) * count);
        use_path(LK_ISA_PORTABLE);
        lk_sgemm_packed(m, n, k, x, ldx, packed, index % 2 ? bias : NULL, expected, ldy);
        use_path(isa);
        lk_sgemm_packed(m, n, k, x, ldx, packed, index % 2 ? bias : NULL, got, ldy);
        now.cases++;
        close_floats(expected, got, count, FP32_TOLERANCE, k / 4.0 + 1, "sgemm packed");
        free(x), free(w), free(bias), free(packed), free(expected), free(got);
      }
}

// ---- 2:4 semi-structured sparse products ----------------------------------------------------------

/// A random 2:4 weight: values [n][k/2], positions [n][k/4] (two distinct positions per block,
/// in either order; some kept values exactly zero).
static void random_sp24(int n, int k, float *values, uint8_t *positions) {
  for (long b = 0; b < (long)n * (k / 4); b++) {
    const int p0 = rand_int(0, 3);
    int p1 = rand_int(0, 2);
    if (p1 >= p0) p1++;
    positions[b] = (uint8_t)(p0 | p1 << 2);
    values[2 * b] = rand_int(0, 9) ? rand_float(-1, 1) : 0.0f;
    values[2 * b + 1] = rand_float(-1, 1);
  }
}

static void check_sparse24(int isa) {
  static const int ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const int ns[] = {1, 5, 15, 16, 17, 32, 33, 100};
  static const int ks[] = {0, 4, 8, 12, 28, 32, 36, 64, 100, 260};
  int index = 0;
  for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
    for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
      for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++, index++) {
        const int m = ms[mi], n = ns[ni], k = ks[ki], ldx = k + index % 3 + 1, ldy = n + (index / 3) % 2;
        snprintf(where, sizeof where, "m %d n %d k %d ldx %d ldy %d", m, n, k, ldx, ldy);
        float *x = malloc(sizeof(float) * (size_t)m * ldx), *values = malloc(sizeof(float) * ((size_t)n * k / 2 + 1));
        uint8_t *positions = malloc((size_t)n * k / 4 + 1);
        float *bias = malloc(sizeof(float) * n);
        for (long i = 0; i < (long)m * ldx; i++) x[i] = rand_float(-1, 1);
        random_sp24(n, k, values, positions);
        for (int j = 0; j < n; j++) bias[j] = rand_float(-1, 1);
        void *packed = malloc((size_t)lk_sp24_packed_bytes(n, k) + 1);
        lk_sp24_pack(n, k, values, positions, packed);
        const long count = (long)m * ldy;
        float *expected = alloc_garbage(sizeof(float) * count), *got = malloc(sizeof(float) * count);
        memcpy(got, expected, sizeof(float) * count);
        // The portable path against the definition first (in double), then the path against it.
        use_path(LK_ISA_PORTABLE);
        lk_sp24_gemm(m, n, k, x, ldx, packed, index % 2 ? bias : NULL, expected, ldy);
        float *reference = malloc(sizeof(float) * count);
        memcpy(reference, expected, sizeof(float) * count);
        for (int r = 0; r < m; r++)
          for (int j = 0; j < n; j++) {
            double sum = index % 2 ? bias[j] : 0.0;
            for (int b = 0; b < k / 4; b++) {
              const long e = (long)j * (k / 4) + b;
              sum += (double)values[2 * e] * x[(long)r * ldx + 4 * b + (positions[e] & 3)];
              sum += (double)values[2 * e + 1] * x[(long)r * ldx + 4 * b + (positions[e] >> 2)];
            }
            reference[(long)r * ldy + j] = (float)sum;
          }
        close_floats(reference, expected, count, FP32_TOLERANCE, k / 4.0 + 1, "sp24 portable vs definition");
        use_path(isa);
        lk_sp24_gemm(m, n, k, x, ldx, packed, index % 2 ? bias : NULL, got, ldy);
        now.cases++;
        close_floats(expected, got, count, FP32_TOLERANCE, k / 4.0 + 1, "sp24 gemm");
        free(x), free(values), free(positions), free(bias), free(packed), free(expected), free(got), free(reference);
      }
}

// ---- Sparse products ----------------------------------------------------------------------------

typedef struct {
  int rows, cols;
  int32_t *row_ptr, *col_idx;
  float *values;
} csr;

static csr random_csr(int rows, int cols, double density) {
  float *dense = malloc(sizeof(float) * (size_t)rows * cols);
  for (long i = 0; i < (long)rows * cols; i++)
    dense[i] = (double)(next64() >> 11) / 9007199254740992.0 < density ? rand_float(-1, 1) : 0.0f;
  csr s = {rows, cols, malloc(sizeof(int32_t) * (rows + 1)), NULL, NULL};
  const long nnz = lk_csr_from_dense(dense, rows, cols, s.row_ptr, NULL, NULL);
  s.col_idx = malloc(sizeof(int32_t) * (nnz + 1));
  s.values = malloc(sizeof(float) * (nnz + 1));
  lk_csr_from_dense(dense, rows, cols, s.row_ptr, s.col_idx, s.values);
  free(dense);
  return s;
}

static void free_csr(csr *s) { free(s->row_ptr), free(s->col_idx), free(s->values); }

/// lk_spmv_sliced with or without a row order, with or without ReLU.
static void sliced_one(int isa, const csr *s, const float *x, const float *bias, int ordered, int relu) {
  int32_t *order = NULL;
  if (ordered) {
    order = malloc(sizeof(int32_t) * s->rows);
    for (int r = 0; r < s->rows; r++) order[r] = r;
    for (int r = s->rows - 1; r > 0; r--) {
      const int t = rand_int(0, r), v = order[r];
      order[r] = order[t], order[t] = v;
    }
  }
  // The layout is built for the path's block width (16 or 32 columns), which portable also reads.
  use_path(isa);
  const int block = lk_sliced_block();
  long entries = 0;
  const int slices = (s->rows + 15) / 16;
  const long steps = lk_sliced_from_csr(s->rows, s->cols, block, s->row_ptr, s->col_idx, s->values, order, NULL, NULL,
                                        NULL, NULL, NULL, &entries);
  int32_t *slice_entries = malloc(sizeof(int32_t) * (slices + 1));
  int32_t *entry_block = malloc(sizeof(int32_t) * (entries + 1));
  int32_t *entry_steps = malloc(sizeof(int32_t) * (entries + 1));
  float *step_values = malloc(sizeof(float) * 16 * (steps + 1));
  uint8_t *step_lanes = malloc(16 * (steps + 1));
  lk_sliced_from_csr(s->rows, s->cols, block, s->row_ptr, s->col_idx, s->values, order, slice_entries, entry_block,
                     entry_steps, step_values, step_lanes, &entries);
  float *expected = alloc_garbage(sizeof(float) * (s->rows + 1)), *got = malloc(sizeof(float) * (s->rows + 1));
  memcpy(got, expected, sizeof(float) * (s->rows + 1));
  use_path(LK_ISA_PORTABLE);
  lk_spmv_sliced(s->rows, s->cols, block, slice_entries, entry_block, entry_steps, step_values, step_lanes, order, x,
                 bias, relu, expected);
  use_path(isa);
  lk_spmv_sliced(s->rows, s->cols, block, slice_entries, entry_block, entry_steps, step_values, step_lanes, order, x,
                 bias, relu, got);
  close_floats(expected, got, s->rows + 1, FP32_TOLERANCE, s->cols / 4.0 + 1, "spmv sliced");
  free(order), free(slice_entries), free(entry_block), free(entry_steps), free(step_values), free(step_lanes);
  free(expected), free(got);
}

static void check_sparse(int isa) {
  static const int rows_list[] = {1, 5, 16, 17, 40};
  static const int cols_list[] = {1, 7, 31, 32, 33, 100};
  static const double densities[] = {0.02, 0.1, 0.5, 1.0};
  static const int batches[] = {1, 3, 15, 16, 17, 64, 65, 130};
  int index = 0;
  for (size_t ri = 0; ri < 5; ri++)
    for (size_t ci = 0; ci < 6; ci++)
      for (size_t di = 0; di < 4; di++, index++) {
        const int rows = rows_list[ri], cols = cols_list[ci];
        csr s = random_csr(rows, cols, densities[di]);
        float *bias = malloc(sizeof(float) * rows), *x = malloc(sizeof(float) * cols * 130);
        for (int r = 0; r < rows; r++) bias[r] = rand_float(-1, 1);
        for (int i = 0; i < cols * 130; i++) x[i] = rand_float(-1, 1);
        const float *b = index % 2 ? bias : NULL;
        snprintf(where, sizeof where, "rows %d cols %d density %g", rows, cols, densities[di]);
        float *expected = alloc_garbage(sizeof(float) * (rows + 1)), *got = malloc(sizeof(float) * (rows + 1));
        memcpy(got, expected, sizeof(float) * (rows + 1));
        use_path(LK_ISA_PORTABLE);
        lk_spmv(rows, cols, s.row_ptr, s.col_idx, s.values, x, b, expected);
        use_path(isa);
        lk_spmv(rows, cols, s.row_ptr, s.col_idx, s.values, x, b, got);
        close_floats(expected, got, rows + 1, FP32_TOLERANCE, cols / 4.0 + 1, "spmv");
        free(expected), free(got);
        sliced_one(isa, &s, x, b, index % 3 == 0, index % 4 < 2);
        const int batch = batches[index % 8];
        snprintf(where, sizeof where, "rows %d cols %d density %g batch %d", rows, cols, densities[di], batch);
        const long count = (long)batch * rows + 1;
        expected = alloc_garbage(sizeof(float) * count), got = malloc(sizeof(float) * count);
        memcpy(got, expected, sizeof(float) * count);
        use_path(LK_ISA_PORTABLE);
        lk_spmm(batch, rows, cols, s.row_ptr, s.col_idx, s.values, x, b, expected, NULL);
        use_path(isa);
        lk_spmm(batch, rows, cols, s.row_ptr, s.col_idx, s.values, x, b, got, NULL);
        close_floats(expected, got, count, FP32_TOLERANCE, cols / 4.0 + 1, "spmm");
        now.cases += 3;
        free(expected), free(got), free(bias), free(x);
        free_csr(&s);
      }
}

// ---- Depthwise convolution -----------------------------------------------------------------------

static void check_dwconv(int isa) {
  for (int t = 0; t < 120; t++) {
    lk_window w = random_window(3);  // SIMD paths take strides 1 and 2, portable the rest
    const int multiplier = t % 3 == 0 ? 2 : 1, outs = w.channels * multiplier, taps = w.kernel_h * w.kernel_w;
    const int o0 = t % 5 == 0 ? outs / 2 : 0;
    snprintf(where, sizeof where, "c %d x%d %dx%d k %dx%d s %d,%d d %d,%d pad %d,%d,%d,%d outputs %d..%d", w.channels,
             multiplier, w.height, w.width, w.kernel_h, w.kernel_w, w.stride_h, w.stride_w, w.dilation_h,
             w.dilation_w, w.pad_top, w.pad_left, w.pad_bottom, w.pad_right, o0, outs);
    float *x = malloc(sizeof(float) * w.channels * w.height * w.width), *weight = malloc(sizeof(float) * outs * taps);
    float *bias = malloc(sizeof(float) * outs);
    for (long i = 0; i < (long)w.channels * w.height * w.width; i++) x[i] = rand_float(-1, 1);
    for (int i = 0; i < outs * taps; i++) weight[i] = rand_float(-1, 1);
    for (int i = 0; i < outs; i++) bias[i] = rand_float(-1, 1);
    const long count = (long)outs * w.out_h * w.out_w + 1;
    float *expected = alloc_garbage(sizeof(float) * count), *got = malloc(sizeof(float) * count);
    memcpy(got, expected, sizeof(float) * count);
    float *scratch = malloc(sizeof(float) * lk_dwconv2d_scratch(&w));
    use_path(LK_ISA_PORTABLE);
    lk_dwconv2d_image(&w, x, multiplier, weight, t % 2 ? bias : NULL, o0, outs, expected, scratch);
    use_path(isa);
    lk_dwconv2d_image(&w, x, multiplier, weight, t % 2 ? bias : NULL, o0, outs, got, scratch);
    now.cases++;
    close_floats(expected, got, count, FP32_TOLERANCE, taps / 4.0 + 1, "dwconv");
    free(x), free(weight), free(bias), free(expected), free(got), free(scratch);
  }
}

// ---- int8 depthwise convolution ------------------------------------------------------------------

static void check_qdwconv(int isa) {
  // MobileNet's shapes (3x3 and 5x5, strides 1 and 2, 7 to 112 wide), then random geometries:
  // the quad paths take strides 1 and 2 without dilation, portable the rest.
  static const int shapes[][5] = {{16, 112, 3, 1, 1}, {24, 56, 5, 2, 2}, {19, 14, 3, 2, 1}, {7, 7, 5, 1, 2},
                                  {5, 9, 9, 1, 4}};
  for (int t = 0; t < 125; t++) {
    lk_window w;
    if (t < 5) {
      const int *sh = shapes[t];
      memset(&w, 0, sizeof w);
      w = (lk_window){1, sh[0], sh[1], sh[1], sh[2], sh[2], sh[3], sh[3], sh[4], sh[4], 1, 1, 0, 0, sh[4], sh[4]};
      w.out_h = w.out_w = (sh[1] + 2 * sh[4] - sh[2]) / sh[3] + 1;
    } else {
      w = random_window(3);
    }
    const int taps = w.kernel_h * w.kernel_w, pattern = t % PATTERNS, kind = t % 2 ? DYADIC : REAL;
    const int c0 = t % 5 == 0 ? w.channels / 2 : 0;
    snprintf(where, sizeof where, "c %d %dx%d k %dx%d s %d,%d d %d,%d pad %d,%d,%d,%d channels %d.. %s %s", w.channels,
             w.height, w.width, w.kernel_h, w.kernel_w, w.stride_h, w.stride_w, w.dilation_h, w.dilation_w, w.pad_top,
             w.pad_left, w.pad_bottom, w.pad_right, c0, pattern_name[pattern], stage_name[kind]);
    uint8_t *x = malloc((size_t)w.channels * w.height * w.width);
    fill_u8(x, (long)w.channels * w.height * w.width, pattern);
    int8_t *weight = malloc((size_t)w.channels * taps);
    fill_s8(weight, (long)w.channels * taps, pattern == ZERO_TIMES_MIN ? MAX_TIMES_MIN : pattern);
    stage s;
    make_stage(&s, kind, w.channels);
    const long count = (long)w.channels * w.out_h * w.out_w + 1;  // + 1: a sentinel
    float *expected = alloc_garbage(sizeof(float) * count), *got = malloc(sizeof(float) * count);
    memcpy(got, expected, sizeof(float) * count);
    void *scratch = alloc_garbage(lk_qdwconv2d_scratch_size(&w));
    use_path(LK_ISA_PORTABLE);
    lk_qdwconv2d_image(&w, x, weight, &s.q, c0, w.channels, expected, scratch);
    free(scratch);
    scratch = alloc_garbage(lk_qdwconv2d_scratch_size(&w));
    use_path(isa);
    lk_qdwconv2d_image(&w, x, weight, &s.q, c0, w.channels, got, scratch);
    now.cases++;
    if (kind == REAL)
      close_floats(expected, got, count, 1e-6, 2, "qdwconv f32");
    else
      same_floats(expected, got, count, "qdwconv f32");
    free(x), free(weight), free(expected), free(got), free(scratch);
  }
}

// ---- Activations and elementwise -----------------------------------------------------------------

static void check_elementwise(int isa) {
  static const long counts[] = {1, 3, 4, 7, 8, 9, 16, 17, 33, 100, 1027};
  for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
    const long n = counts[ci];
    snprintf(where, sizeof where, "count %ld", n);
    float *x = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    for (long i = 0; i < n; i++) x[i] = rand_float(-8, 8), b[i] = rand_float(0.5f, 3);
    float *expected = malloc(sizeof(float) * n), *got = malloc(sizeof(float) * n);
    for (int kernel = 0; kernel < 10; kernel++) {
      for (int run = 0; run < 2; run++) {
        float *y = run ? got : expected;
        use_path(run ? isa : LK_ISA_PORTABLE);
        switch (kernel) {
        case 0: lk_relu(x, y, n); break;
        case 1: lk_hard_sigmoid(x, y, n, 0.2f, 0.5f); break;
        case 2: lk_hard_swish(x, y, n); break;
        case 3: lk_erf(x, y, n); break;
        case 4: lk_gelu(x, y, n); break;
        case 5: lk_softmax_rows(x, y, 1, n); break;
        case 6: lk_binary(LK_BINARY_ADD, x, 1, b, 1, y, n); break;
        case 7: lk_binary(LK_BINARY_MUL, x, 1, b, 0, y, n); break;
        case 8: lk_binary(LK_BINARY_DIV, x, 0, b, 1, y, n); break;
        default: lk_row_sums(x, 1, n, y); break;
        }
      }
      now.cases++;
      const long outputs = kernel == 9 ? 1 : n;  // lk_row_sums: one sum of n values within ±8
      close_floats(expected, got, outputs, FP32_TOLERANCE, kernel == 9 ? 4.0 * n : 0, "activation/elementwise");
    }
    free(x), free(b), free(expected), free(got);
  }
}

// ---- Driver ---------------------------------------------------------------------------------------

typedef struct {
  const char *name;
  void (*check)(int isa);
} kernel;

static const kernel kernels[] = {
    {"int8 gemm (lk_qgemm_f32, lk_qgemm_nchw)", check_qgemm},
    {"int8 conv (lk_qconv2d_image rows, columns)", check_qconv},
    {"weight-only gemm (lk_wq_gemm_f32)", check_wqgemm},
    {"quantize, dequantize, minmax", check_quantize},
    {"fp32 packed gemm (lk_sgemm_packed)", check_packed_gemm},
    {"sparse (lk_spmv, lk_spmv_sliced, lk_spmm)", check_sparse},
    {"2:4 sparse (lk_sp24_gemm)", check_sparse24},
    {"depthwise conv (lk_dwconv2d_image)", check_dwconv},
    {"int8 depthwise conv (lk_qdwconv2d_image)", check_qdwconv},
    {"activations, lk_binary, lk_row_sums", check_elementwise},
};

/// Checks every kernel on one path; returns its mismatches.
static long check_path(int isa) {
  long cases = 0, values = 0, mismatches = 0;
  path = lk_isa_name(isa);
  printf("%s:\n", path);
  for (size_t i = 0; i < sizeof kernels / sizeof *kernels; i++) {
    rng = 0x5eed + i;  // each kernel sees the same inputs on every path
    memset(&now, 0, sizeof now);
    kernels[i].check(isa);
    printf("  %-46s %6ld cases %9ld values  %s\n", kernels[i].name, now.cases, now.values,
           now.mismatches ? "MISMATCH" : "ok");
    cases += now.cases, values += now.values, mismatches += now.mismatches;
  }
  printf("  %s: %ld cases, %ld values compared with portable, %ld mismatches\n", lk_isa_name(isa), cases, values,
         mismatches);
  return mismatches;
}

/// A kernel that crashes (under qemu there is no debugger at hand) names the case it ran.
static void report_crash(int signal) {
  fprintf(stderr, "  CRASH (signal %d) on %s [%s]\n", signal, path ? path : "portable", where);
  _Exit(3);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGSEGV, report_crash);
  signal(SIGBUS, report_crash);
  printf("best path on this CPU: %s\n", lk_isa_name(lk_isa_best()));
  long mismatches = 0;
  int paths = 0;
  for (int isa = 1; isa < LK_ISA_COUNT; isa++) {
    int wanted = argc == 1;
    for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], lk_isa_name(isa)) == 0;
    if (!wanted || !lk_isa_supported(isa)) continue;
    mismatches += check_path(isa);
    paths++;
  }
  if (paths == 0) printf("no SIMD path to check on this CPU (portable only)\n");
  printf("%s\n", mismatches ? "FAILED" : "all paths agree with portable");
  return mismatches ? 1 : 0;
}
