// int8 convolution of one NCHW image, two ways over the same packed weights.
//
// Columns (the default): out[o, p] = Σ_k W[o,k] X[k,p], vectorised over 16 output pixels per
// register. The unfolded image is stored as [k/4][pixels][4] bytes, so one 64-byte load holds
// 4 consecutive k of 16 pixels, and vpdpbusd multiplies it (the unsigned operand) with 4
// weights of one output channel broadcast to every lane (the signed operand). Each register
// row is then 16 pixels of one output channel: NCHW rows come out contiguous and the output
// stage is vector stores, and a layer with 6 output channels wastes no lanes.
// Without VNNI the same bytes are widened to int16 pairs for vpmaddwd (pixels as they are
// loaded, a block of channels' weights once per image; see the int16 section below).
//
// With stride 1 the unfolding needs no gathering at all: over a "virtual" grid whose rows
// are as wide as the (padded) input, pixel q of k = (c, i, j) reads input byte
// base(c, i, j) + q, so every k row is one contiguous run of the image and the unfolding is a
// 4-way byte interleave of 4 runs. The virtual grid's extra columns (the kw - 1 positions per
// row where the window would wrap) are computed and dropped by the output stage, which
// compresses each vector's valid lanes into consecutive outputs (they are consecutive: the
// next valid pixel after the end of a row starts the next row). Other strides gather each k
// row output row by output row into a small buffer first.
//
// Rows (im2row_u8, the GEMM with pixels as rows): used where the columns would have to
// be gathered (strides other than 1), which costs more than im2row (lk_qconv2d_method).
//
// Zero points: the padding holds the activation zero point zp and the weights' k tail is 0,
// so Σ_k (X[k,p] - zp) W[o,k] = acc[o,p] - zp * wsum[o] exactly as in the GEMM.
#include "neon.h"

#include <stdatomic.h>
#include <string.h>

enum { PANEL = 16, VEC = 16 };
enum { WIDE_CHANNELS = 8 };  // the most channels the int16 paths widen at once

// ---- Rows: im2row then the GEMM --------------------------------------------------------------

/// Copies a short run (a kernel row: typically 3, 5 or 7 bytes) without a memcpy call.
static inline void copy_run(uint8_t *dst, const uint8_t *src, int n) {
  switch (n) {
  case 3: memcpy(dst, src, 3); return;
  case 5: memcpy(dst, src, 5); return;
  case 7: memcpy(dst, src, 7); return;
  default:
    for (int t = 0; t < n; t++) dst[t] = src[t];
  }
}

/// Unfolds one u8 image x [channels, height, width] (w->batch is ignored) into patch rows:
/// rows[p*ld + (c*kh + i)*kw + j] for channels [c0, c0+cn), p = oy*out_w + ox, with
/// pad_value (the activation zero point, the quantized 0.0) where the window hangs over the
/// padding. ld >= cn*kh*kw.
static void im2row_u8(const lk_window *w, const uint8_t *x, int c0, int cn, uint8_t pad_value, uint8_t *rows, int ld) {
  const int kh = w->kernel_h, kw = w->kernel_w;
  const long plane = (long)w->height * w->width;
  for (int oy = 0; oy < w->out_h; oy++) {
    const int iy0 = oy * w->stride_h - w->pad_top;
    for (int ox = 0; ox < w->out_w; ox++) {
      uint8_t *dst = rows + (long)(oy * w->out_w + ox) * ld;
      const int ix0 = ox * w->stride_w - w->pad_left;
      const int last_x = ix0 + (kw - 1) * w->dilation_w;
      const int inside_x = ix0 >= 0 && last_x < w->width;
      for (int c = 0; c < cn; c++) {
        const uint8_t *img = x + (c0 + c) * plane;
        for (int i = 0; i < kh; i++, dst += kw) {
          const int iy = iy0 + i * w->dilation_h;
          if (iy < 0 || iy >= w->height) {
            memset(dst, pad_value, kw);
          } else if (inside_x && w->dilation_w == 1) {
            copy_run(dst, img + (long)iy * w->width + ix0, kw);  // the common case
          } else {
            const uint8_t *src = img + (long)iy * w->width;
            for (int j = 0; j < kw; j++) {
              const int ix = ix0 + j * w->dilation_w;
              dst[j] = ix >= 0 && ix < w->width ? src[ix] : pad_value;
            }
          }
        }
      }
    }
  }
}

/// Patch rows padded to a multiple of 4 bytes so every GEMM row starts 4-byte aligned
/// relative to the buffer.
static int patch_stride(const lk_window *w) { return (w->channels * w->kernel_h * w->kernel_w + 3) & ~3; }

static size_t rows_scratch_size(const lk_window *w) { return (size_t)w->out_h * w->out_w * patch_stride(w); }

static void qconv_rows(const lk_window *w, const uint8_t *x, const void *packed, int out_channels,
                       const lk_qoutput *out, float *y_f32, uint8_t *y_u8, void *scratch) {
  const int k = w->channels * w->kernel_h * w->kernel_w;
  const int ld = patch_stride(w);
  uint8_t *rows = scratch;
  im2row_u8(w, x, 0, w->channels, (uint8_t)out->a_zero_point, rows, ld);
  lk_qgemm_nchw(w->out_h * w->out_w, out_channels, k, rows, ld, packed, out, y_f32, y_u8);
}

// ---- Columns: plan and unfolding -------------------------------------------------------------

/// Where everything lives for one geometry (scratch offsets from a 64-byte aligned base).
typedef struct {
  int direct;           // stride 1: k rows are runs of the (padded) image, no gathering
  int copy;             // direct, and the image needs a zero-point padded copy
  int hp, wp;           // direct: the padded image's size (wp is also the virtual row width)
  int vw;               // virtual row width: wp when direct, out_w otherwise
  int pv;               // virtual pixels that exist: (out_h - 1) * vw + out_w
  int p16;              // pv rounded up to 16 (the columns' row length)
  int vectors;          // p16 / 16
  int k, k4;            // k = channels * kh * kw, k4 = groups of 4 rounded up
  size_t cols, aux, table, wide, total;  // offsets: columns, padded image or gather rows, lane
                                         // table, a block of weights widened to int16
} plan;

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

static plan make_plan(const lk_window *w) {
  plan p;
  memset(&p, 0, sizeof p);
  p.k = w->channels * w->kernel_h * w->kernel_w;
  p.k4 = (p.k + 3) / 4;
  p.hp = w->out_h + (w->kernel_h - 1) * w->dilation_h;
  p.wp = w->out_w + (w->kernel_w - 1) * w->dilation_w;
  // Wide windows over narrow outputs would waste most of the virtual grid: gather instead.
  p.direct = w->stride_h == 1 && w->stride_w == 1 && p.wp <= 2 * w->out_w;
  p.copy = p.direct && !(w->pad_top == 0 && w->pad_left == 0 && p.wp == w->width && p.hp <= w->height);
  p.vw = p.direct ? p.wp : w->out_w;
  p.pv = w->out_h > 0 && w->out_w > 0 ? (w->out_h - 1) * p.vw + w->out_w : 0;
  p.p16 = (p.pv + VEC - 1) / VEC * VEC;
  p.vectors = p.p16 / VEC;
  p.cols = 0;
  p.aux = align64((size_t)p.k4 * p.p16 * 4);
  const size_t aux_bytes = p.direct ? (p.copy ? (size_t)w->channels * p.hp * p.wp : 0) : (size_t)4 * p.p16;
  p.table = p.aux + align64(aux_bytes);
  p.wide = p.table + align64((size_t)p.vectors * 2 * sizeof(int32_t));
  p.total = p.wide + (size_t)WIDE_CHANNELS * p.k4 * 4 * sizeof(int16_t);
  return p;
}

/// The zero-point padded copy of the image (direct plan): hp x wp per channel. One fill for
/// the borders, then the image rows.
static void pad_image(const lk_window *w, const plan *p, const uint8_t *x, uint8_t zp, uint8_t *dst) {
  const int lo = w->pad_left > 0 ? w->pad_left : 0;
  int hi = w->pad_left + w->width;
  if (hi > p->wp) hi = p->wp;
  memset(dst, zp, (size_t)w->channels * p->hp * p->wp);
  if (hi <= lo) return;
  for (int c = 0; c < w->channels; c++) {
    for (int r = 0; r < p->hp; r++) {
      const int iy = r - w->pad_top;
      if (iy < 0 || iy >= w->height) continue;
      lk_copy_bytes(dst + ((long)c * p->hp + r) * p->wp + lo, x + ((long)c * w->height + iy) * w->width + (lo - w->pad_left),
                 hi - lo);
    }
  }
}

/// The output columns [lo, hi) whose input column ox*stride + offset lies inside [0, width).
static inline void valid_columns(int offset, int stride, int width, int out_w, int *lo, int *hi) {
  int a = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int b = width - 1 - offset < 0 ? 0 : (width - 1 - offset) / stride + 1;
  if (b > out_w) b = out_w;
  if (a > b) a = b;
  *lo = a;
  *hi = b;
}

/// Row k = (c, i, j) of the unfolded image for any stride: dst[oy*out_w + ox].
static void gather_row(const lk_window *w, const uint8_t *x, int c, int i, int j, uint8_t zp, uint8_t *dst) {
  const uint8_t *img = x + (long)c * w->height * w->width;
  const int off = j * w->dilation_w - w->pad_left;
  int lo, hi;
  valid_columns(off, w->stride_w, w->width, w->out_w, &lo, &hi);
  for (int oy = 0; oy < w->out_h; oy++, dst += w->out_w) {
    const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
    if (iy < 0 || iy >= w->height) {
      memset(dst, zp, w->out_w);
      continue;
    }
    const uint8_t *src = img + (long)iy * w->width + off;
    memset(dst, zp, lo);
    if (w->stride_w == 1) {
      memcpy(dst + lo, src + lo, hi - lo);
    } else {
      for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox * w->stride_w];
    }
    memset(dst + hi, zp, w->out_w - hi);
  }
}

/// dst[4q + t] = src[t][q] for q < n, zeros up to `padded`.
static void interleave4_portable(const uint8_t *const src[4], int n, int padded, uint8_t *dst) {
  for (int q = 0; q < n; q++)
    for (int t = 0; t < 4; t++) dst[4 * q + t] = src[t][q];
  memset(dst + 4 * n, 0, 4 * (size_t)(padded - n));
}

#if LK_X86
/// The same with byte and word unpacks, 32 pixels (128 output bytes) per step. The unpacks
/// work inside 128-bit lanes, so each result holds pixels 4h..4h+3 and 16+4h..16+4h+3; the
/// lane permutes put them back in order.
LK_AVX2 static void interleave4_avx2(const uint8_t *const src[4], int n, int padded, uint8_t *dst) {
  int q = 0;
  for (; q + 32 <= n; q += 32) {
    const __m256i a = _mm256_loadu_si256((const __m256i *)(src[0] + q));
    const __m256i b = _mm256_loadu_si256((const __m256i *)(src[1] + q));
    const __m256i c = _mm256_loadu_si256((const __m256i *)(src[2] + q));
    const __m256i d = _mm256_loadu_si256((const __m256i *)(src[3] + q));
    const __m256i ab0 = _mm256_unpacklo_epi8(a, b), ab1 = _mm256_unpackhi_epi8(a, b);
    const __m256i cd0 = _mm256_unpacklo_epi8(c, d), cd1 = _mm256_unpackhi_epi8(c, d);
    const __m256i o0 = _mm256_unpacklo_epi16(ab0, cd0), o1 = _mm256_unpackhi_epi16(ab0, cd0);
    const __m256i o2 = _mm256_unpacklo_epi16(ab1, cd1), o3 = _mm256_unpackhi_epi16(ab1, cd1);
    uint8_t *o = dst + 4 * q;
    _mm256_storeu_si256((__m256i *)o, _mm256_permute2x128_si256(o0, o1, 0x20));
    _mm256_storeu_si256((__m256i *)(o + 32), _mm256_permute2x128_si256(o2, o3, 0x20));
    _mm256_storeu_si256((__m256i *)(o + 64), _mm256_permute2x128_si256(o0, o1, 0x31));
    _mm256_storeu_si256((__m256i *)(o + 96), _mm256_permute2x128_si256(o2, o3, 0x31));
  }
  for (; q + 16 <= n; q += 16) {
    const __m128i a = _mm_loadu_si128((const __m128i *)(src[0] + q));
    const __m128i b = _mm_loadu_si128((const __m128i *)(src[1] + q));
    const __m128i c = _mm_loadu_si128((const __m128i *)(src[2] + q));
    const __m128i d = _mm_loadu_si128((const __m128i *)(src[3] + q));
    const __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
    const __m128i cd0 = _mm_unpacklo_epi8(c, d), cd1 = _mm_unpackhi_epi8(c, d);
    uint8_t *o = dst + 4 * q;
    _mm_storeu_si128((__m128i *)o, _mm_unpacklo_epi16(ab0, cd0));
    _mm_storeu_si128((__m128i *)(o + 16), _mm_unpackhi_epi16(ab0, cd0));
    _mm_storeu_si128((__m128i *)(o + 32), _mm_unpacklo_epi16(ab1, cd1));
    _mm_storeu_si128((__m128i *)(o + 48), _mm_unpackhi_epi16(ab1, cd1));
  }
  const uint8_t *rest[4] = {src[0] + q, src[1] + q, src[2] + q, src[3] + q};
  interleave4_portable(rest, n - q, padded - q, dst + 4 * q);
}
#endif

/// Fills the columns [k4][p16][4] and the lane table; returns them through the plan's offsets.
static void unfold(const lk_window *w, const plan *p, const uint8_t *x, uint8_t zp, uint8_t *base, int isa) {
  uint8_t *cols = base + p->cols;
  const uint8_t *img = x;
  long plane = (long)w->height * w->width, pitch = w->width;
  if (p->copy) {
    pad_image(w, p, x, zp, base + p->aux);
    img = base + p->aux;
    plane = (long)p->hp * p->wp;
    pitch = p->wp;
  }
  int c = 0, i = 0, j = 0;  // k = (c*kh + i)*kw + j, stepped without divisions
  for (int kk = 0; kk < p->k4; kk++) {
    const uint8_t *src[4];
    for (int t = 0; t < 4; t++) {
      if (4 * kk + t >= p->k) {
        src[t] = src[0];  // its weights are 0: any readable run will do
        continue;
      }
      if (t > 0 || kk > 0) {
        if (++j == w->kernel_w) {
          j = 0;
          if (++i == w->kernel_h) {
            i = 0;
            c++;
          }
        }
      }
      if (p->direct) {
        src[t] = img + c * plane + (long)i * w->dilation_h * pitch + j * w->dilation_w;
      } else {
        uint8_t *row = base + p->aux + (size_t)t * p->p16;
        gather_row(w, x, c, i, j, zp, row);
        src[t] = row;
      }
    }
    uint8_t *dst = cols + (size_t)kk * p->p16 * 4;
#if LK_X86
    if (isa != LK_ISA_PORTABLE) {
      interleave4_avx2(src, p->pv, p->p16, dst);
      continue;
    }
#endif
#if LK_ARM64
    if (lk_isa_neon(isa)) {
      lk_interleave4_neon(src, p->pv, p->p16, dst);
      continue;
    }
#endif
    (void)isa;
    interleave4_portable(src, p->pv, p->p16, dst);
  }
  // Lane table: for each 16-pixel vector, which lanes are real outputs and where the first
  // one goes (the rest follow it contiguously). Built a row's valid run at a time.
  int32_t *table = (int32_t *)(base + p->table);
  memset(table, 0, (size_t)p->vectors * 2 * sizeof(int32_t));
  for (int r = 0; r < w->out_h; r++) {
    const int q0 = r * p->vw;
    for (int a = q0; a < q0 + w->out_w;) {
      const int v = a / VEC, l = a % VEC;
      const int n = q0 + w->out_w - a < VEC - l ? q0 + w->out_w - a : VEC - l;
      if (!table[2 * v]) table[2 * v + 1] = r * w->out_w + (a - q0);
      table[2 * v] |= (int32_t)((((1u << n) - 1) << l) & 0xFFFF);
      a += n;
    }
  }
}

// ---- Columns: kernels ------------------------------------------------------------------------

/// One image's product, as every path sees it.
typedef struct {
  const uint8_t *cols;  // [k4][p16][4]
  long cstride;         // p16 * 4: bytes from one k group to the next
  int k4, n, vectors;
  const int8_t *w;      // GEMM panels (lk_qgemm_pack)
  long pstride;         // k4 * 64: bytes per panel
  const int32_t *wsum;
  const int32_t *table; // [vectors][mask, first output]
  const lk_qoutput *q;
  float *yf;            // f32 output, or NULL
  uint8_t *yu;          // u8 output
  long plane;           // out_h * out_w
  int16_t *w16;         // int16 paths: room for WIDE_CHANNELS channels' widened weights
} cjob;

/// Channel o's 4 weights of group kk inside the GEMM panels: panel o/16, column o%16.
static inline const int8_t *weight_row(const cjob *g, int o) { return g->w + (o / PANEL) * g->pstride + (o % PANEL) * 4; }

LK_INLINE int32_t word_at(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/// zp * wsum[o] in wrapping arithmetic: the true difference acc - zp*wsum fits in int32.
static inline int32_t zp_times_wsum(const cjob *g, int o) {
  return (int32_t)((uint32_t)g->q->a_zero_point * (uint32_t)g->wsum[o]);
}

/// Output stage for one accumulator going to output index `at` of channel o.
static inline void store_one(const cjob *g, int o, long at, int32_t acc) {
  const lk_qoutput *q = g->q;
  const int32_t centered = (int32_t)((uint32_t)acc - (uint32_t)zp_times_wsum(g, o));
  float v = (float)centered * (q->a_scale * q->w_scale[o]);
  if (q->bias) v += q->bias[o];
  if (q->relu && v < 0) v = 0;
  if (g->yf) {
    g->yf[(long)o * g->plane + at] = v;
    return;
  }
  float t = v * (1.0f / q->out_scale);
  t = t < -512.0f ? -512.0f : (t > 512.0f ? 512.0f : t);
  const int r = (int)__builtin_lrintf(t) + q->out_zero_point;
  g->yu[(long)o * g->plane + at] = (uint8_t)(r < 0 ? 0 : (r > 255 ? 255 : r));
}

/// The valid lanes of `lanes` accumulators starting at lane `lane0` of vector v.
static void finish_portable(const cjob *g, int o, int v, int lane0, int lanes, const int32_t *acc) {
  const uint32_t mask = (uint32_t)g->table[2 * v];
  long at = g->table[2 * v + 1] + __builtin_popcount(mask & ((1u << lane0) - 1));
  for (int l = 0; l < lanes; l++)
    if (mask >> (lane0 + l) & 1) store_one(g, o, at++, acc[l]);
}

/// Plain loops, one channel × 16 pixels at a time.
static void qconv_portable(const cjob *g) {
  for (int o = 0; o < g->n; o++) {
    const int8_t *wr = weight_row(g, o);
    for (int v = 0; v < g->vectors; v++) {
      int32_t acc[VEC] = {0};
      for (int kk = 0; kk < g->k4; kk++) {
        const uint8_t *xk = g->cols + kk * g->cstride + v * 64;
        const int8_t *wk = wr + kk * 64;
        for (int l = 0; l < VEC; l++)
          acc[l] += xk[4 * l] * wk[0] + xk[4 * l + 1] * wk[1] + xk[4 * l + 2] * wk[2] + xk[4 * l + 3] * wk[3];
      }
      finish_portable(g, o, v, 0, VEC, acc);
    }
  }
}

#if LK_X86

// ---- AVX-512 VNNI: up to 6 channels × 4 vectors (64 pixels) of accumulators -------------------

enum { MR512 = 6, NV512 = 4 };

/// Output stage for 16 pixels of channel o, straight from the register (no VNNI: the path
/// without it shares it).
LK_AVX512BW LK_INLINE void store512(const cjob *g, int o, int v, __m512i acc, __m512i zpw, __m512 scale, __m512 bias) {
  const uint32_t mask = (uint32_t)g->table[2 * v];
  if (!mask) return;
  const long at = (long)o * g->plane + g->table[2 * v + 1];
  const __mmask16 first = (__mmask16)((1u << __builtin_popcount(mask)) - 1);
  __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc, zpw)), scale, bias);
  if (g->q->relu) y = _mm512_max_ps(y, _mm512_setzero_ps());
  if (g->yf) {
    if (mask == 0xFFFF) {
      _mm512_storeu_ps(g->yf + at, y);
    } else {
      _mm512_mask_storeu_ps(g->yf + at, first, _mm512_maskz_compress_ps((__mmask16)mask, y));
    }
    return;
  }
  __m512 t = _mm512_mul_ps(y, _mm512_set1_ps(1.0f / g->q->out_scale));
  t = _mm512_min_ps(_mm512_max_ps(t, _mm512_set1_ps(-512.0f)), _mm512_set1_ps(512.0f));
  __m512i r = _mm512_add_epi32(_mm512_cvtps_epi32(t), _mm512_set1_epi32(g->q->out_zero_point));
  r = _mm512_max_epi32(r, _mm512_setzero_si512());  // vpmovusdb saturates at 255
  if (mask != 0xFFFF) r = _mm512_maskz_compress_epi32((__mmask16)mask, r);
  _mm512_mask_cvtusepi32_storeu_epi8(g->yu + at, first, r);
}

/// MR channels × NV vectors; constants after inlining, so the accumulators stay in registers.
LK_AVX512 LK_INLINE void tile512(const cjob *g, int o0, int MR, int v0, int NV) {
  __m512i acc[MR512][NV512];
  const int8_t *wr[MR512];
  for (int r = 0; r < MR; r++) wr[r] = weight_row(g, o0 + r);
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_si512();
  const uint8_t *x = g->cols + v0 * 64;
  for (int kk = 0; kk < g->k4; kk++, x += g->cstride) {
    __m512i xv[NV512];
    for (int v = 0; v < NV; v++) xv[v] = _mm512_loadu_si512(x + v * 64);
    for (int r = 0; r < MR; r++) {
      const __m512i wb = _mm512_set1_epi32(word_at(wr[r] + kk * 64));
      for (int v = 0; v < NV; v++) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], xv[v], wb);
    }
  }
  const lk_qoutput *q = g->q;
  for (int r = 0; r < MR; r++) {
    const int o = o0 + r;
    const __m512i zpw = _mm512_set1_epi32(zp_times_wsum(g, o));
    const __m512 scale = _mm512_set1_ps(q->a_scale * q->w_scale[o]);
    const __m512 bias = _mm512_set1_ps(q->bias ? q->bias[o] : 0.0f);
    for (int v = 0; v < NV; v++) store512(g, o, v0 + v, acc[r][v], zpw, scale, bias);
  }
}

/// All channels for vectors [v0, v0+NV), 6 at a time then the rest.
LK_AVX512 LK_INLINE void channels512(const cjob *g, int v0, int NV) {
  int o = 0;
  for (; o + MR512 <= g->n; o += MR512) tile512(g, o, MR512, v0, NV);
  switch (g->n - o) {
  case 5: tile512(g, o, 5, v0, NV); break;
  case 4: tile512(g, o, 4, v0, NV); break;
  case 3: tile512(g, o, 3, v0, NV); break;
  case 2: tile512(g, o, 2, v0, NV); break;
  case 1: tile512(g, o, 1, v0, NV); break;
  default: break;
  }
}

/// Pixel blocks outermost: a block's columns stay in L1 while every channel passes over them.
LK_AVX512 static void qconv_avx512(const cjob *g) {
  int v = 0;
  for (; v + NV512 <= g->vectors; v += NV512) channels512(g, v, NV512);
  switch (g->vectors - v) {
  case 3: channels512(g, v, 3); break;
  case 2: channels512(g, v, 2); break;
  case 1: channels512(g, v, 1); break;
  default: break;
  }
}

// ---- 256-bit paths: up to 4 (AVX-VNNI) or 2 (AVX2) channels × one 16-pixel vector ------------

enum { MR256 = 4 };

/// Output stage for a finished tile buf[r*16 + lane]: 8 lanes at a time where all are valid
/// (f32), the scalar stage otherwise (lane gaps, u8: no masked byte stores before AVX-512).
LK_AVX2 static void finish256(const cjob *g, int o0, int mr, int v, const int32_t *buf) {
  const lk_qoutput *q = g->q;
  const uint32_t mask = (uint32_t)g->table[2 * v];
  for (int r = 0; r < mr; r++) {
    const int o = o0 + r;
    if (mask != 0xFFFF || !g->yf) {
      finish_portable(g, o, v, 0, VEC, buf + r * VEC);
      continue;
    }
    const __m256i zpw = _mm256_set1_epi32(zp_times_wsum(g, o));
    const __m256 scale = _mm256_set1_ps(q->a_scale * q->w_scale[o]);
    const __m256 bias = _mm256_set1_ps(q->bias ? q->bias[o] : 0.0f);
    float *y = g->yf + (long)o * g->plane + g->table[2 * v + 1];
    for (int h = 0; h < 2; h++) {
      const __m256i acc = _mm256_loadu_si256((const __m256i *)(buf + r * VEC + 8 * h));
      __m256 t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc, zpw)), scale, bias);
      if (q->relu) t = _mm256_max_ps(t, _mm256_setzero_ps());
      _mm256_storeu_ps(y + 8 * h, t);
    }
  }
}

LK_AVXVNNI LK_INLINE void tile_avxvnni(const cjob *g, int o0, int MR, int v) {
  __m256i acc[MR256][2];
  const int8_t *wr[MR256];
  for (int r = 0; r < MR; r++) {
    wr[r] = weight_row(g, o0 + r);
    acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  }
  const uint8_t *x = g->cols + v * 64;
  for (int kk = 0; kk < g->k4; kk++, x += g->cstride) {
    const __m256i x0 = _mm256_loadu_si256((const __m256i *)x);
    const __m256i x1 = _mm256_loadu_si256((const __m256i *)(x + 32));
    for (int r = 0; r < MR; r++) {
      const __m256i wb = _mm256_set1_epi32(word_at(wr[r] + kk * 64));
      acc[r][0] = _mm256_dpbusd_avx_epi32(acc[r][0], x0, wb);
      acc[r][1] = _mm256_dpbusd_avx_epi32(acc[r][1], x1, wb);
    }
  }
  int32_t buf[MR256 * VEC];
  for (int r = 0; r < MR; r++) {
    _mm256_storeu_si256((__m256i *)(buf + r * VEC), acc[r][0]);
    _mm256_storeu_si256((__m256i *)(buf + r * VEC + 8), acc[r][1]);
  }
  finish256(g, o0, MR, v, buf);
}

LK_AVXVNNI static void qconv_avxvnni(const cjob *g) {
  for (int v = 0; v < g->vectors; v++) {
    int o = 0;
    for (; o + 4 <= g->n; o += 4) tile_avxvnni(g, o, 4, v);
    switch (g->n - o) {
    case 3: tile_avxvnni(g, o, 3, v); break;
    case 2: tile_avxvnni(g, o, 2, v); break;
    case 1: tile_avxvnni(g, o, 1, v); break;
    default: break;
    }
  }
}

// ---- AVX2 and AVX-512 without VNNI: int16 pairs through vpmaddwd -------------------------------
//
// No exact u8×s8 dot product without VNNI (vpmaddubsw saturates int16; qgemm.c says why that
// rules it out), so both operands go to int16 and vpmaddwd adds exact pairs into int32. The
// pixels are widened in the loop, one vpmovzxbw from memory per 4 pixels × 4 k (lane
// 2l + h holds pixel l's k pair h, so accumulators hold pixels as pairs, summed once per
// tile); each widening serves a block of channels. The weights of that block are widened
// once into the scratch (w16[r][k4*4], as the GEMM widens activations), so a channel's 4
// values of a k group are one vpbroadcastq from memory.

/// A block of channels' weights, widened, and their output-stage constants.
typedef struct {
  float scale[WIDE_CHANNELS], bias[WIDE_CHANNELS];
  int32_t zpw[WIDE_CHANNELS];
} block_stage;

/// Channels [o0, o0+mr): their packed weights as int16 into w16[r * k4*4 + 4*kk + t], and
/// their output-stage constants into bs.
LK_AVX2 LK_INLINE void widen_block(const cjob *g, int o0, int mr, block_stage *bs) {
  for (int r = 0; r < mr; r++) {
    const int o = o0 + r;
    const int8_t *src = weight_row(g, o);
    int16_t *dst = g->w16 + (long)r * g->k4 * 4;
    for (int kk = 0; kk < g->k4; kk++)
      _mm_storel_epi64((__m128i *)(dst + 4 * kk), _mm_cvtepi8_epi16(_mm_cvtsi32_si128(word_at(src + kk * 64))));
    bs->scale[r] = g->q->a_scale * g->q->w_scale[o];
    bs->bias[r] = g->q->bias ? g->q->bias[o] : 0.0f;
    bs->zpw[r] = zp_times_wsum(g, o);
  }
}

/// Channel r's 4 widened weights of group kk, as one 64-bit word.
LK_INLINE int64_t w_group(const cjob *g, int r, int kk) {
  int64_t v;
  memcpy(&v, g->w16 + ((long)r * g->k4 + kk) * 4, 8);
  return v;
}

enum { MRW = 6 };

/// Output stage for lanes 8·half .. 8·half+7 of vector v, buf[r*16 + l] holding channel
/// o0 + r's 16 lanes. The valid lanes are moved to the front (one permutation for every
/// channel), and the 8 lanes are stored whole where that stays inside the channel's plane:
/// the lanes past the valid ones land on later outputs of the same channel, which the next
/// vectors (in pixel order) rewrite.
LK_AVX2 LK_INLINE void finish_half(const cjob *g, const block_stage *bs, int o0, int mr, int v, int half,
                                   const int32_t *buf) {
  const uint32_t mask = (uint32_t)g->table[2 * v];
  const uint32_t lanes = mask >> (8 * half) & 0xFF;
  if (!lanes) return;
  const long first = g->table[2 * v + 1] + __builtin_popcount(mask & ((1u << (8 * half)) - 1));
  const int count = __builtin_popcount(lanes);
  uint64_t order = 0x0706050403020100;  // all 8 valid: the identity
  if (lanes != 0xFF) {
    order = 0;
    int c = 0;
    for (uint32_t m = lanes; m; m &= m - 1) order |= (uint64_t)__builtin_ctz(m) << (8 * c++);
  }
  const __m256i perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)order));
  // Locals: the stores below could alias g and q as far as the compiler knows.
  const long plane = g->plane;
  const int whole = first + 8 <= plane, relu = g->q->relu;
  float *const yf = g->yf;
  uint8_t *const yu = g->yu;
  const __m256 inv = _mm256_set1_ps(1.0f / g->q->out_scale);
  const __m256i zp = _mm256_set1_epi32(g->q->out_zero_point);
  for (int r = 0; r < mr; r++) {
    const long at = (o0 + r) * plane + first;
    const __m256i acc = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(buf + r * VEC + 8 * half)),
                                         _mm256_set1_epi32(bs->zpw[r]));
    __m256 y = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(bs->scale[r]), _mm256_set1_ps(bs->bias[r]));
    if (relu) y = _mm256_max_ps(y, _mm256_setzero_ps());
    if (lanes != 0xFF) y = _mm256_permutevar8x32_ps(y, perm);
    if (yf) {
      if (whole) {
        _mm256_storeu_ps(yf + at, y);
      } else {
        float tmp[8];
        _mm256_storeu_ps(tmp, y);
        memcpy(yf + at, tmp, sizeof(float) * count);
      }
      continue;
    }
    __m256 t = _mm256_mul_ps(y, inv);
    t = _mm256_min_ps(_mm256_max_ps(t, _mm256_set1_ps(-512.0f)), _mm256_set1_ps(512.0f));
    const __m256i r32 = _mm256_add_epi32(_mm256_cvtps_epi32(t), zp);
    // Saturating packs clamp to 0..255; they work per 128-bit half, so the two halves' first
    // 4 bytes are joined at the end.
    const __m256i r8 = _mm256_packus_epi16(_mm256_packs_epi32(r32, r32), _mm256_setzero_si256());
    const __m128i bytes = _mm_unpacklo_epi32(_mm256_castsi256_si128(r8), _mm256_extracti128_si256(r8, 1));
    if (whole) {
      _mm_storel_epi64((__m128i *)(yu + at), bytes);
    } else {
      uint8_t tmp[16];
      _mm_storeu_si128((__m128i *)tmp, bytes);
      memcpy(yu + at, tmp, count);
    }
  }
}

/// MR channels (widened in w16) × 8 pixels, lanes 8·half .. of vector v, into buf[r*16 + l].
LK_AVX2 LK_INLINE void tile_avx2(const cjob *g, int MR, int v, int half, int32_t *buf) {
  __m256i acc[MRW][2];  // [channel][pixels 4h .. 4h+3 as pairs]
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  const uint8_t *x = g->cols + v * 64 + 32 * half;
  for (int kk = 0; kk < g->k4; kk++, x += g->cstride) {
    const __m256i x0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)x));
    const __m256i x1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + 16)));
    for (int r = 0; r < MR; r++) {
      const __m256i wb = _mm256_set1_epi64x(w_group(g, r, kk));  // w0 w1 w2 w3, repeated
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(x0, wb));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(x1, wb));
    }
  }
  for (int r = 0; r < MR; r++) {
    // hadd gives [p0 p1 p4 p5 | p2 p3 p6 p7] in 64-bit pairs; the permute restores order.
    const __m256i sums = _mm256_hadd_epi32(acc[r][0], acc[r][1]);
    _mm256_storeu_si256((__m256i *)(buf + r * VEC + 8 * half), _mm256_permute4x64_epi64(sums, 0xD8));
  }
}

/// Every pixel for channels [o0, o0+MR), in pixel order (finish_half relies on it).
LK_AVX2 LK_INLINE void pixels_avx2(const cjob *g, int o0, int MR) {
  block_stage bs;
  widen_block(g, o0, MR, &bs);
  int32_t buf[MRW * VEC];
  for (int v = 0; v < g->vectors; v++) {
    tile_avx2(g, MR, v, 0, buf);
    tile_avx2(g, MR, v, 1, buf);
    finish_half(g, &bs, o0, MR, v, 0, buf);
    finish_half(g, &bs, o0, MR, v, 1, buf);
  }
}

/// Channel blocks outermost: each block's weights are widened once.
LK_AVX2 static void qconv_avx2(const cjob *g) {
  int o = 0;
  for (; o + MRW <= g->n; o += MRW) pixels_avx2(g, o, MRW);
  switch (g->n - o) {
  case 5: pixels_avx2(g, o, 5); break;
  case 4: pixels_avx2(g, o, 4); break;
  case 3: pixels_avx2(g, o, 3); break;
  case 2: pixels_avx2(g, o, 2); break;
  case 1: pixels_avx2(g, o, 1); break;
  default: break;
  }
}

enum { MRB = WIDE_CHANNELS };

/// MR channels × 16 pixels (vector v): two 512-bit registers of 8 pixels as pairs per
/// channel, summed by pairs at the end (even plus odd lanes, in pixel order).
LK_AVX512BW LK_INLINE void tile_avx512bw(const cjob *g, const block_stage *bs, int o0, int MR, int v) {
  __m512i acc[MRB][2];
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
  const uint8_t *x = g->cols + v * 64;
  for (int kk = 0; kk < g->k4; kk++, x += g->cstride) {
    const __m512i x0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)x));
    const __m512i x1 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(x + 32)));
    for (int r = 0; r < MR; r++) {
      const __m512i wb = _mm512_set1_epi64(w_group(g, r, kk));
      acc[r][0] = _mm512_add_epi32(acc[r][0], _mm512_madd_epi16(x0, wb));
      acc[r][1] = _mm512_add_epi32(acc[r][1], _mm512_madd_epi16(x1, wb));
    }
  }
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int r = 0; r < MR; r++) {
    const __m512i sums = _mm512_add_epi32(_mm512_permutex2var_epi32(acc[r][0], even, acc[r][1]),
                                          _mm512_permutex2var_epi32(acc[r][0], odd, acc[r][1]));
    store512(g, o0 + r, v, sums, _mm512_set1_epi32(bs->zpw[r]), _mm512_set1_ps(bs->scale[r]),
             _mm512_set1_ps(bs->bias[r]));
  }
}

LK_AVX512BW LK_INLINE void pixels_avx512bw(const cjob *g, int o0, int MR) {
  block_stage bs;
  widen_block(g, o0, MR, &bs);
  for (int v = 0; v < g->vectors; v++) tile_avx512bw(g, &bs, o0, MR, v);
}

LK_AVX512BW static void qconv_avx512bw(const cjob *g) {
  int o = 0;
  for (; o + MRB <= g->n; o += MRB) pixels_avx512bw(g, o, MRB);
  switch (g->n - o) {
  case 7: pixels_avx512bw(g, o, 7); break;
  case 6: pixels_avx512bw(g, o, 6); break;
  case 5: pixels_avx512bw(g, o, 5); break;
  case 4: pixels_avx512bw(g, o, 4); break;
  case 3: pixels_avx512bw(g, o, 3); break;
  case 2: pixels_avx512bw(g, o, 2); break;
  case 1: pixels_avx512bw(g, o, 1); break;
  default: break;
  }
}

#endif  // LK_X86

static void qconv_columns(const lk_window *w, const uint8_t *x, const void *packed, int out_channels,
                          const lk_qoutput *out, float *y_f32, uint8_t *y_u8, void *scratch) {
  const plan p = make_plan(w);
  if (p.pv == 0 || out_channels <= 0) return;
  uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
  const int isa = lk_isa_current();
  unfold(w, &p, x, (uint8_t)out->a_zero_point, base, isa);
  const cjob g = {
      .cols = base + p.cols, .cstride = (long)p.p16 * 4, .k4 = p.k4, .n = out_channels, .vectors = p.vectors,
      .w = packed, .pstride = (long)p.k4 * 64, .wsum = lk_qgemm_packed_sums(packed, out_channels, p.k),
      .table = (const int32_t *)(base + p.table), .q = out, .yf = y_f32, .yu = y_u8,
      .plane = (long)w->out_h * w->out_w, .w16 = (int16_t *)(base + p.wide)};
  switch (isa) {
#if LK_X86
  case LK_ISA_AVX512VNNI: qconv_avx512(&g); return;
  case LK_ISA_AVXVNNI: qconv_avxvnni(&g); return;
  case LK_ISA_AVX512: qconv_avx512bw(&g); return;
  case LK_ISA_AVX2: qconv_avx2(&g); return;
#endif
#if LK_ARM64
  case LK_ISA_NEON_DOT:
  case LK_ISA_NEON:
    lk_qconv_columns_neon(isa == LK_ISA_NEON_DOT, g.cols, g.k4, g.vectors, packed, g.n, g.table, out, y_f32, y_u8,
                          g.plane);
    return;
#endif
  default: qconv_portable(&g); return;
  }
}

// ---- Entry points ------------------------------------------------------------------------------

static atomic_int forced = -1;  // LK_QCONV_*, or -1: automatic

int lk_qconv2d_force(int method) {
  if (method > LK_QCONV_COLUMNS) return 0;
  atomic_store(&forced, method < 0 ? -1 : method);
  return 1;
}

int lk_qconv2d_method(const lk_window *w, int out_channels) {
  const int f = atomic_load_explicit(&forced, memory_order_relaxed);
  if (f >= 0) return f;
  (void)out_channels;
  // Measured (AVX-512 VNNI, one core): columns wins wherever the unfolding is the byte
  // interleave, 1.4-3.5x (LeNet, 3x3 stride 1 at 7..56 px, 1x1 on 7x7 with 512 channels);
  // with gathered rows (stride 2: 3x3 on 28x28, 7x7 on 224x224) im2row is 1.4x faster.
  return make_plan(w).direct ? LK_QCONV_COLUMNS : LK_QCONV_ROWS;
}

size_t lk_qconv2d_scratch_size(const lk_window *w) {
  const size_t rows = rows_scratch_size(w);
  const size_t cols = make_plan(w).total + 64;  // + 64: the base is aligned inside
  return rows > cols ? rows : cols;
}

void lk_qconv2d_image(const lk_window *w, const uint8_t *x, const void *packed, int out_channels,
                      const lk_qoutput *out, float *y_f32, uint8_t *y_u8, void *scratch) {
  if (lk_qconv2d_method(w, out_channels) == LK_QCONV_ROWS)
    qconv_rows(w, x, packed, out_channels, out, y_f32, y_u8, scratch);
  else
    qconv_columns(w, x, packed, out_channels, out, y_f32, y_u8, scratch);
}
