// im2col / col2im: convolution becomes one GEMM per group over the whole batch.
#include "simd.h"

#include <string.h>

/// The output columns [lo, hi) whose input column ox*stride + offset lies inside [0, width).
static inline void valid_columns(int offset, int stride, int width, int out_w, int *lo, int *hi) {
  int a = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int b = width - 1 - offset < 0 ? 0 : (width - 1 - offset) / stride + 1;
  if (b > out_w) b = out_w;
  if (a > b) a = b;
  *lo = a;
  *hi = b;
}

/// One output row oy of im2col row (c, i, j): d[ox] = img[iy][ox*stride + off], zero where the
/// tap falls in the padding (columns outside [lo, hi), or a row outside the image).
static inline void unfold_row(const lk_window *w, const float *img, int i, int off, int lo, int hi, int oy,
                              float *d) {
  const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
  if (iy < 0 || iy >= w->height) {
    memset(d, 0, sizeof(float) * w->out_w);
    return;
  }
  const float *src = img + (long)iy * w->width + off;
  for (int ox = 0; ox < lo; ox++) d[ox] = 0.0f;
  if (w->stride_w == 1) {
    memcpy(d + lo, src + lo, sizeof(float) * (hi - lo));
  } else {
    for (int ox = lo; ox < hi; ox++) d[ox] = src[ox * w->stride_w];
  }
  for (int ox = hi; ox < w->out_w; ox++) d[ox] = 0.0f;
}

void lk_im2col(const lk_window *w, const float *x, int c0, int cn, float *cols) {
  const int P = w->out_h * w->out_w;
  const long NP = (long)w->batch * P;
  const long plane = (long)w->height * w->width;
  for (int c = 0; c < cn; c++) {
    for (int i = 0; i < w->kernel_h; i++) {
      for (int j = 0; j < w->kernel_w; j++) {
        float *row = cols + ((long)(c * w->kernel_h + i) * w->kernel_w + j) * NP;
        const int off = j * w->dilation_w - w->pad_left;
        int lo, hi;
        valid_columns(off, w->stride_w, w->width, w->out_w, &lo, &hi);
        for (int n = 0; n < w->batch; n++) {
          const float *img = x + ((long)n * w->channels + c0 + c) * plane;
          float *dst = row + (long)n * P;
          for (int oy = 0; oy < w->out_h; oy++) unfold_row(w, img, i, off, lo, hi, oy, dst + oy * w->out_w);
        }
      }
    }
  }
}

void lk_im2col_rows(const lk_window *w, const float *x, int c0, int cn, int oy0, int oy1, float *cols) {
  const long band = (long)(oy1 - oy0) * w->out_w;
  const long plane = (long)w->height * w->width;
  for (int c = 0; c < cn; c++) {
    const float *img = x + (long)(c0 + c) * plane;
    for (int i = 0; i < w->kernel_h; i++) {
      for (int j = 0; j < w->kernel_w; j++) {
        float *row = cols + ((long)(c * w->kernel_h + i) * w->kernel_w + j) * band;
        const int off = j * w->dilation_w - w->pad_left;
        int lo, hi;
        valid_columns(off, w->stride_w, w->width, w->out_w, &lo, &hi);
        for (int oy = oy0; oy < oy1; oy++) unfold_row(w, img, i, off, lo, hi, oy, row + (long)(oy - oy0) * w->out_w);
      }
    }
  }
}

void lk_col2im(const lk_window *w, const float *cols, int c0, int cn, float *dx) {
  const int P = w->out_h * w->out_w;
  const long NP = (long)w->batch * P;
  const long plane = (long)w->height * w->width;
  for (int c = 0; c < cn; c++) {
    for (int i = 0; i < w->kernel_h; i++) {
      for (int j = 0; j < w->kernel_w; j++) {
        const float *row = cols + ((long)(c * w->kernel_h + i) * w->kernel_w + j) * NP;
        for (int n = 0; n < w->batch; n++) {
          float *img = dx + ((long)n * w->channels + c0 + c) * plane;
          const float *src = row + (long)n * P;
          for (int oy = 0; oy < w->out_h; oy++) {
            const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
            if (iy < 0 || iy >= w->height) continue;
            float *d = img + (long)iy * w->width;
            const float *s = src + oy * w->out_w;
            for (int ox = 0; ox < w->out_w; ox++) {
              const int ix = ox * w->stride_w - w->pad_left + j * w->dilation_w;
              if (ix >= 0 && ix < w->width) d[ix] += s[ox];
            }
          }
        }
      }
    }
  }
}

void lk_cnp_to_ncp(const float *src, float *dst, int c, int n, int p) {
  for (int ci = 0; ci < c; ci++)
    for (int ni = 0; ni < n; ni++)
      memcpy(dst + ((long)ni * c + ci) * p, src + ((long)ci * n + ni) * p, sizeof(float) * p);
}

void lk_ncp_to_cnp(const float *src, float *dst, int n, int c, int p) {
  for (int ni = 0; ni < n; ni++)
    for (int ci = 0; ci < c; ci++)
      memcpy(dst + ((long)ci * n + ni) * p, src + ((long)ni * c + ci) * p, sizeof(float) * p);
}

// ---- Stride-1 convolution of one image over a virtual grid --------------------------------
//
// With stride 1, output pixel (oy, ox) of k = (c, i, j) reads padded-image byte
// base(c, i, j) + oy*wp + ox, where wp is the padded width. Over a "virtual" grid whose rows
// are wp wide, every im2col row is therefore one contiguous run of the padded image: the
// unfolding is K long copies instead of K * out_h short ones (LeNet's conv1: 25 copies rather
// than 700). The GEMM computes the wp - out_w wrapped columns of each row too, and the final
// pass drops them while adding the bias. Worth it while the grid is not much wider than the
// output.
//
// Small products (LeNet's: 6x892x25 and 16x136x150 per image) skip the copy and the BLAS too:
// on AVX2 and AVX-512 a register tile reads each im2col row straight from the image at its
// offset ("indirect" rows), so nothing is unfolded, and the weight needs no packing (one
// broadcast per output row and tap). OpenBLAS packed both operands on every call: at these
// sizes that, and the 25-150 row copies, took more time than the multiply-adds.

typedef struct {
  int hp, wp, pv;        // padded image size, virtual pixels (last row cut at out_w)
  int copy;              // the image needs a zero-padded copy
  long image, cols;      // float offsets in the scratch: padded image, columns, then products
} direct_plan;

static int plan_direct(const lk_window *w, int cn, int out_channels, direct_plan *p, size_t *floats) {
  if (w->stride_h != 1 || w->stride_w != 1 || w->out_h <= 0 || w->out_w <= 0) return 0;
  p->hp = w->out_h + (w->kernel_h - 1) * w->dilation_h;
  p->wp = w->out_w + (w->kernel_w - 1) * w->dilation_w;
  if (p->wp > 2 * w->out_w) return 0;
  p->pv = (w->out_h - 1) * p->wp + w->out_w;
  p->copy = !(w->pad_top == 0 && w->pad_left == 0 && p->wp == w->width && p->hp <= w->height);
  const long k = (long)cn * w->kernel_h * w->kernel_w;
  p->image = 0;
  p->cols = p->copy ? (long)cn * p->hp * p->wp : 0;
  *floats = (size_t)(p->cols + k * p->pv + (long)out_channels * p->pv);
  return 1;
}

/// prod[o][p] = Σ_t weight[o*k + t] · img[offset[t] + p] for o < out_channels, p < pv.
typedef struct {
  const float *img;
  const long *offset;
  const float *weight;
  int k, out_channels, pv;
  float *prod;
} indirect_gemm;

enum { TILE_ROWS = 6, MAX_INDIRECT_TAPS = 1024 };

#if LK_X86
/// Output rows o0..o0+rows (rows <= 6, a constant after inlining) by 32 pixels from p0, two zmm
/// per row; `keep0`/`keep1` mask the pixels past pv.
LK_AVX512BW LK_INLINE void indirect_tile_avx512(const indirect_gemm *g, int o0, int rows, int p0, __mmask16 keep0,
                                                __mmask16 keep1) {
  __m512 a[TILE_ROWS], b[TILE_ROWS];
  for (int r = 0; r < TILE_ROWS; r++) a[r] = b[r] = _mm512_setzero_ps();
  const float *w = g->weight + (long)o0 * g->k;
  for (int t = 0; t < g->k; t++) {
    const float *src = g->img + g->offset[t] + p0;
    const __m512 x0 = _mm512_maskz_loadu_ps(keep0, src), x1 = _mm512_maskz_loadu_ps(keep1, src + 16);
    for (int r = 0; r < rows; r++) {
      const __m512 v = _mm512_set1_ps(w[(long)r * g->k + t]);
      a[r] = _mm512_fmadd_ps(v, x0, a[r]);
      b[r] = _mm512_fmadd_ps(v, x1, b[r]);
    }
  }
  for (int r = 0; r < rows; r++) {
    float *dst = g->prod + (long)(o0 + r) * g->pv + p0;
    _mm512_mask_storeu_ps(dst, keep0, a[r]);
    _mm512_mask_storeu_ps(dst + 16, keep1, b[r]);
  }
}

LK_AVX512BW static void indirect_avx512(const indirect_gemm *g) {
  for (int p0 = 0; p0 < g->pv; p0 += 32) {
    const int left = g->pv - p0;
    const __mmask16 keep0 = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
    const __mmask16 keep1 = left >= 32 ? 0xFFFF : (left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1));
    int o0 = 0;
    for (; o0 + TILE_ROWS <= g->out_channels; o0 += TILE_ROWS) indirect_tile_avx512(g, o0, TILE_ROWS, p0, keep0, keep1);
    switch (g->out_channels - o0) {
    case 5: indirect_tile_avx512(g, o0, 5, p0, keep0, keep1); break;
    case 4: indirect_tile_avx512(g, o0, 4, p0, keep0, keep1); break;
    case 3: indirect_tile_avx512(g, o0, 3, p0, keep0, keep1); break;
    case 2: indirect_tile_avx512(g, o0, 2, p0, keep0, keep1); break;
    case 1: indirect_tile_avx512(g, o0, 1, p0, keep0, keep1); break;
    default: break;
    }
  }
}

/// The AVX2 tile: 6 rows by 16 pixels in ymm pairs; `keep0`/`keep1` (lanes of -1) mask the
/// pixels past pv in the last tile.
LK_AVX2 LK_INLINE void indirect_tile_avx2(const indirect_gemm *g, int o0, int rows, int p0, int tail, __m256i keep0,
                                          __m256i keep1) {
  __m256 a[TILE_ROWS], b[TILE_ROWS];
  for (int r = 0; r < TILE_ROWS; r++) a[r] = b[r] = _mm256_setzero_ps();
  const float *w = g->weight + (long)o0 * g->k;
  for (int t = 0; t < g->k; t++) {
    const float *src = g->img + g->offset[t] + p0;
    const __m256 x0 = tail ? _mm256_maskload_ps(src, keep0) : _mm256_loadu_ps(src);
    const __m256 x1 = tail ? _mm256_maskload_ps(src + 8, keep1) : _mm256_loadu_ps(src + 8);
    for (int r = 0; r < rows; r++) {
      const __m256 v = _mm256_broadcast_ss(w + (long)r * g->k + t);
      a[r] = _mm256_fmadd_ps(v, x0, a[r]);
      b[r] = _mm256_fmadd_ps(v, x1, b[r]);
    }
  }
  for (int r = 0; r < rows; r++) {
    float *dst = g->prod + (long)(o0 + r) * g->pv + p0;
    if (tail) {
      _mm256_maskstore_ps(dst, keep0, a[r]);
      _mm256_maskstore_ps(dst + 8, keep1, b[r]);
    } else {
      _mm256_storeu_ps(dst, a[r]);
      _mm256_storeu_ps(dst + 8, b[r]);
    }
  }
}

LK_AVX2 static void indirect_avx2(const indirect_gemm *g) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int p0 = 0; p0 < g->pv; p0 += 16) {
    const int left = g->pv - p0, tail = left < 16;
    const __m256i keep0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), iota);
    const __m256i keep1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(left - 8), iota);
    int o0 = 0;
    for (; o0 + TILE_ROWS <= g->out_channels; o0 += TILE_ROWS)
      indirect_tile_avx2(g, o0, TILE_ROWS, p0, tail, keep0, keep1);
    switch (g->out_channels - o0) {
    case 5: indirect_tile_avx2(g, o0, 5, p0, tail, keep0, keep1); break;
    case 4: indirect_tile_avx2(g, o0, 4, p0, tail, keep0, keep1); break;
    case 3: indirect_tile_avx2(g, o0, 3, p0, tail, keep0, keep1); break;
    case 2: indirect_tile_avx2(g, o0, 2, p0, tail, keep0, keep1); break;
    case 1: indirect_tile_avx2(g, o0, 1, p0, tail, keep0, keep1); break;
    default: break;
    }
  }
}
#endif

/// The virtual-grid product straight from the image (plane and pitch: its channel and row
/// strides) into prod [out_channels, pv], when a SIMD tile applies and the product is small
/// enough to run on one thread (larger ones go to the BLAS, which blocks for the caches);
/// returns 0, doing nothing, otherwise.
static int indirect_product(const float *img, long plane, long pitch, const lk_window *w, int cn, const float *weight,
                            int out_channels, int pv, float *prod) {
  const int taps = cn * w->kernel_h * w->kernel_w;
  if (taps > MAX_INDIRECT_TAPS || (double)out_channels * pv * taps >= LK_GEMM_SPLIT_WORK) return 0;
#if LK_X86
  const int isa = lk_isa_current();
  if (!lk_isa_x86(isa)) return 0;
  long offset[MAX_INDIRECT_TAPS];
  int t = 0;
  for (int c = 0; c < cn; c++)
    for (int i = 0; i < w->kernel_h; i++)
      for (int j = 0; j < w->kernel_w; j++)
        offset[t++] = c * plane + (long)i * w->dilation_h * pitch + (long)j * w->dilation_w;
  const indirect_gemm g = {img, offset, weight, taps, out_channels, pv, prod};
  if (lk_isa_avx512(isa)) {
    indirect_avx512(&g);
  } else {
    indirect_avx2(&g);
  }
  return 1;
#else
  (void)img, (void)plane, (void)pitch, (void)weight, (void)prod;
  return 0;
#endif
}

size_t lk_conv2d_direct_scratch(const lk_window *w, int cn, int out_channels) {
  direct_plan p;
  size_t floats = 0;
  return plan_direct(w, cn, out_channels, &p, &floats) ? floats : 0;
}

int lk_conv2d_image_direct(const lk_window *w, const float *x, int c0, int cn, const float *weight,
                           int out_channels, const float *bias, float *y, float *scratch) {
  direct_plan p;
  size_t floats;
  if (!plan_direct(w, cn, out_channels, &p, &floats)) return 0;
  const int kh = w->kernel_h, kw = w->kernel_w;
  const int k = cn * kh * kw;
  const float *img = x + (long)c0 * w->height * w->width;
  long plane = (long)w->height * w->width, pitch = w->width;
  if (p.copy) {
    float *pad = scratch + p.image;
    int lo = w->pad_left > 0 ? w->pad_left : 0, hi = w->pad_left + w->width;
    if (hi > p.wp) hi = p.wp;
    memset(pad, 0, sizeof(float) * cn * p.hp * p.wp);
    for (int c = 0; c < cn && hi > lo; c++)
      for (int r = 0; r < p.hp; r++) {
        const int iy = r - w->pad_top;
        if (iy < 0 || iy >= w->height) continue;
        memcpy(pad + ((long)c * p.hp + r) * p.wp + lo, img + ((long)c * w->height + iy) * w->width + (lo - w->pad_left),
               sizeof(float) * (hi - lo));
      }
    img = pad;
    plane = (long)p.hp * p.wp;
    pitch = p.wp;
  }
  float *cols = scratch + p.cols;
  float *prod = cols + (long)k * p.pv;
  if (!indirect_product(img, plane, pitch, w, cn, weight, out_channels, p.pv, prod)) {
    float *row = cols;
    for (int c = 0; c < cn; c++)
      for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++, row += p.pv)
          memcpy(row, img + c * plane + (long)i * w->dilation_h * pitch + j * w->dilation_w, sizeof(float) * p.pv);
    lk_sgemm(0, 0, out_channels, p.pv, k, 1.0f, weight, k, cols, p.pv, 0.0f, prod, p.pv);
  }
  const long plane_out = (long)w->out_h * w->out_w;
  for (int o = 0; o < out_channels; o++) {
    const float b = bias ? bias[o] : 0.0f;
    for (int oy = 0; oy < w->out_h; oy++) {
      const float *src = prod + (long)o * p.pv + (long)oy * p.wp;
      float *dst = y + o * plane_out + (long)oy * w->out_w;
      for (int ox = 0; ox < w->out_w; ox++) dst[ox] = src[ox] + b;
    }
  }
  return 1;
}
