// Depthwise convolution (groups == input channels), computed directly on the image.
//
// A depthwise layer does kh*kw multiply-adds per output pixel, so im2col plus a GEMM per
// channel (an [1 x kh*kw] by [kh*kw x P] product) spends its time unfolding and in per-call BLAS
// overhead: MobileNet's depthwise layers ran at a few percent of the machine's peak that way.
// Here each channel is copied once into a zero-padded plane, so no tap needs a bounds check,
// and each output row is the sum of kh*kw shifted rows of it times one weight each. On AVX2
// eight outputs of a row are accumulated in registers over every tap, the last partial group
// stored under a mask: late MobileNet layers are 7 or 14 pixels wide, where a scalar tail
// would be most of the work.
#include "neon.h"

#include <string.h>

/// The zero-padded plane: rows wide enough for every tap of every output column; `slack`
/// floats follow it so a row's last (masked) vector may load past its end.
typedef struct {
  int hp, wp;
} padded_plane;

static padded_plane plane_size(const lk_window *w) {
  padded_plane p;
  p.hp = (w->out_h - 1) * w->stride_h + (w->kernel_h - 1) * w->dilation_h + 1;
  p.wp = (w->out_w - 1) * w->stride_w + (w->kernel_w - 1) * w->dilation_w + 1;
  return p;
}

/// Floats past the plane a vector of outputs at stride s may read: eight (AVX2) or, at
/// stride 2, sixteen (AVX-512 loads 32 floats and keeps the even ones) from its first tap.
static size_t slack(const lk_window *w) { return 16 * (size_t)(w->stride_w > 2 ? w->stride_w : 2) + 16; }

size_t lk_dwconv2d_scratch(const lk_window *w) {
  if (w->out_h <= 0 || w->out_w <= 0) return 0;
  const padded_plane p = plane_size(w);
  return (size_t)p.hp * p.wp + slack(w);
}

/// Copies channel `img` into the padded plane `pad` (hp x wp), zeros around it. Row by row, so
/// each float of the plane is written once (a memset of the whole plane first cost a third of
/// the time of a 112x112 layer).
static void pad_channel(const lk_window *w, const float *img, padded_plane p, float *pad) {
  // Input column ix lands at padded column ix + pad_left; only those inside [0, wp) are kept.
  int lo = w->pad_left < 0 ? -w->pad_left : 0;
  int hi = w->width;
  if (hi + w->pad_left > p.wp) hi = p.wp - w->pad_left;
  const int first = hi > lo ? lo + w->pad_left : p.wp, count = hi > lo ? hi - lo : 0;
  for (int r = 0; r < p.hp; r++) {
    float *row = pad + (long)r * p.wp;
    const int iy = r - w->pad_top;
    if (iy < 0 || iy >= w->height || count == 0) {
      memset(row, 0, sizeof(float) * p.wp);
      continue;
    }
    memset(row, 0, sizeof(float) * first);
    memcpy(row + first, img + (long)iy * w->width + lo, sizeof(float) * count);
    memset(row + first + count, 0, sizeof(float) * (p.wp - first - count));
  }
  memset(pad + (long)p.hp * p.wp, 0, sizeof(float) * slack(w));
}

/// One output row without SIMD: out[ox] = b + sum over taps of k * pad[...].
static void row_portable(const lk_window *w, const float *pad, padded_plane p, const float *k, float b, int oy,
                         float *out) {
  const int s = w->stride_w;
  for (int ox = 0; ox < w->out_w; ox++) out[ox] = b;
  for (int i = 0; i < w->kernel_h; i++) {
    const float *row = pad + (long)(oy * w->stride_h + i * w->dilation_h) * p.wp;
    for (int j = 0; j < w->kernel_w; j++) {
      const float kv = k[i * w->kernel_w + j];
      const float *src = row + j * w->dilation_w;
      // An axpy over the row, which compilers vectorize (NEON included) at stride 1.
      if (s == 1)
        for (int ox = 0; ox < w->out_w; ox++) out[ox] += kv * src[ox];
      else
        for (int ox = 0; ox < w->out_w; ox++) out[ox] += kv * src[(long)ox * s];
    }
  }
}

#if LK_X86
/// Eight floats from `src` at stride s (1 or 2): src[0], src[s], ... src[7s].
LK_AVX2 static inline __m256 load_strided(const float *src, int s) {
  if (s == 1) return _mm256_loadu_ps(src);
  const __m256 a = _mm256_loadu_ps(src), b = _mm256_loadu_ps(src + 8);
  // Even lanes of a:b, then the 128-bit halves put in order: [a0 a2 a4 a6 b0 b2 b4 b6].
  const __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0)));
}

/// Stores lanes 0..left-1 of v (all eight when left >= 8); the lanes past the row were
/// computed from padding and slack.
LK_AVX2 static inline void store_row(float *out, __m256 v, int left) {
  if (left >= 8) {
    _mm256_storeu_ps(out, v);
    return;
  }
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  _mm256_maskstore_ps(out, _mm256_cmpgt_epi32(_mm256_set1_epi32(left), lane), v);
}

/// A tile of ROWS output rows by VECS vectors of eight outputs from column ox: every tap's
/// weight is broadcast once and feeds ROWS*VECS independent accumulators, eight where the plane
/// allows, so the FMAs do not wait on each other's latency; on 7-wide planes (one vector) that
/// takes eight rows. ROWS and VECS are constants at each call, so the accumulators live in
/// registers. Measured on an AVX2 EPYC: 6-9 GMAC/s (a fifth of its FMA peak; the unaligned
/// loads bound it), against about 1 GMAC/s through im2col and a GEMM per channel.
LK_AVX2 LK_INLINE void tile_avx2(const lk_window *w, const float *pad, padded_plane p, const float *k,
                                 const long *offsets, float b, int oy, int ox, int ROWS, int VECS, float *plane) {
  const int s = w->stride_w, taps = w->kernel_h * w->kernel_w;
  const long row_step = (long)w->stride_h * p.wp;
  const float *base = pad + (long)oy * row_step + (long)ox * s;
  __m256 acc[8][4];
  for (int r = 0; r < ROWS; r++)
    for (int v = 0; v < VECS; v++) acc[r][v] = _mm256_set1_ps(b);
  for (int t = 0; t < taps; t++) {
    const __m256 kv = _mm256_set1_ps(k[t]);
    const float *src = base + offsets[t];
    for (int r = 0; r < ROWS; r++)
      for (int v = 0; v < VECS; v++)
        acc[r][v] = _mm256_fmadd_ps(kv, load_strided(src + r * row_step + (long)v * 8 * s, s), acc[r][v]);
  }
  for (int r = 0; r < ROWS; r++)
    for (int v = 0; v < VECS; v++)
      store_row(plane + (long)(oy + r) * w->out_w + ox + 8 * v, acc[r][v], w->out_w - ox - 8 * v);
}

/// tile_avx2 with the shapes the planner below asks for, each compiled with its constants.
LK_AVX2 static void tile_of(const lk_window *w, const float *pad, padded_plane p, const float *k, const long *offsets,
                            float b, int oy, int ox, int rows, int vecs, float *plane) {
#define LK_TILE(R, V) \
  case R * 8 + V: tile_avx2(w, pad, p, k, offsets, b, oy, ox, R, V, plane); return;
  switch (rows * 8 + vecs) {
    LK_TILE(1, 1) LK_TILE(2, 1) LK_TILE(3, 1) LK_TILE(4, 1) LK_TILE(5, 1) LK_TILE(6, 1) LK_TILE(7, 1) LK_TILE(8, 1)
    LK_TILE(1, 2) LK_TILE(2, 2) LK_TILE(3, 2) LK_TILE(4, 2)
    LK_TILE(1, 3) LK_TILE(2, 3) LK_TILE(1, 4) LK_TILE(2, 4)
  default:
    // Any other shape as single rows of single vectors (never asked for below).
    for (int r = 0; r < rows; r++)
      for (int v = 0; v < vecs; v++) tile_avx2(w, pad, p, k, offsets, b, oy + r, ox + 8 * v, 1, 1, plane);
  }
#undef LK_TILE
}

/// Sixteen floats from `src` at stride s (1 or 2), lanes past `left` zero (loads stay inside
/// the plane and its slack: a masked load reads nothing past the lanes it keeps).
LK_AVX512BW static inline __m512 load16(const float *src, int s, __mmask16 keep) {
  if (s == 1) return _mm512_maskz_loadu_ps(keep, src);
  // Even elements of src[0..31]: one two-source permute instead of AVX2's shuffle pair.
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512 a = _mm512_loadu_ps(src), b = _mm512_loadu_ps(src + 16);
  return _mm512_maskz_mov_ps(keep, _mm512_permutex2var_ps(a, even, b));
}

/// tile_avx2 in sixteen-float vectors: ROWS output rows by VECS vectors from column ox, the
/// last vector of a row masked to the plane's width (a 14-wide plane is one masked vector,
/// not two of eight).
LK_AVX512BW LK_INLINE void tile_avx512(const lk_window *w, const float *pad, padded_plane p, const float *k,
                                     const long *offsets, float b, int oy, int ox, int ROWS, int VECS, float *plane) {
  const int s = w->stride_w, taps = w->kernel_h * w->kernel_w;
  const long row_step = (long)w->stride_h * p.wp;
  const float *base = pad + (long)oy * row_step + (long)ox * s;
  __mmask16 keep[4];
  for (int v = 0; v < VECS; v++) {
    const int left = w->out_w - ox - 16 * v;
    keep[v] = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
  }
  __m512 acc[8][4];
  for (int r = 0; r < ROWS; r++)
    for (int v = 0; v < VECS; v++) acc[r][v] = _mm512_set1_ps(b);
  for (int t = 0; t < taps; t++) {
    const __m512 kv = _mm512_set1_ps(k[t]);
    const float *src = base + offsets[t];
    for (int r = 0; r < ROWS; r++)
      for (int v = 0; v < VECS; v++)
        acc[r][v] = _mm512_fmadd_ps(kv, load16(src + r * row_step + (long)v * 16 * s, s, keep[v]), acc[r][v]);
  }
  for (int r = 0; r < ROWS; r++)
    for (int v = 0; v < VECS; v++)
      _mm512_mask_storeu_ps(plane + (long)(oy + r) * w->out_w + ox + 16 * v, keep[v], acc[r][v]);
}

LK_AVX512BW static void tile512_of(const lk_window *w, const float *pad, padded_plane p, const float *k,
                                 const long *offsets, float b, int oy, int ox, int rows, int vecs, float *plane) {
#define LK_TILE(R, V) \
  case R * 8 + V: tile_avx512(w, pad, p, k, offsets, b, oy, ox, R, V, plane); return;
  switch (rows * 8 + vecs) {
    LK_TILE(1, 1) LK_TILE(2, 1) LK_TILE(3, 1) LK_TILE(4, 1) LK_TILE(5, 1) LK_TILE(6, 1) LK_TILE(7, 1) LK_TILE(8, 1)
    LK_TILE(1, 2) LK_TILE(2, 2) LK_TILE(3, 2) LK_TILE(4, 2)
    LK_TILE(1, 3) LK_TILE(2, 3) LK_TILE(1, 4) LK_TILE(2, 4)
  default:
    for (int r = 0; r < rows; r++)
      for (int v = 0; v < vecs; v++) tile_avx512(w, pad, p, k, offsets, b, oy + r, ox + 16 * v, 1, 1, plane);
  }
#undef LK_TILE
}

/// A tile dispatcher: tile_of or tile512_of.
typedef void (*tile_fn)(const lk_window *w, const float *pad, padded_plane p, const float *k, const long *offsets,
                        float b, int oy, int ox, int rows, int vecs, float *plane);

/// One channel's output plane in tiles of eight accumulators, vectors of `lanes` floats (8 for
/// AVX2, 16 for AVX-512): 8 rows of one vector on planes one vector wide (MobileNet's 7- and
/// 14-wide layers), 4 rows of two on planes two wide, 2 rows of four on wider ones; the rows
/// left over make one shorter tile.
static void plane_tiles(const lk_window *w, const float *pad, padded_plane p, const float *k, const long *offsets,
                        float b, float *plane, int lanes, tile_fn tile) {
  const int vecs = (w->out_w + lanes - 1) / lanes;
  const int row_vecs = vecs < 4 ? vecs : 4;
  const int rows = row_vecs == 1 ? 8 : (row_vecs == 2 ? 4 : 2);
  for (int oy = 0; oy < w->out_h; oy += rows) {
    // The last rows as one shorter tile, still one accumulator per (row, vector).
    const int tile_rows = w->out_h - oy < rows ? w->out_h - oy : rows;
    for (int ox = 0; ox < w->out_w; ox += 4 * lanes) {
      const int left = (w->out_w - ox + lanes - 1) / lanes;
      tile(w, pad, p, k, offsets, b, oy, ox, tile_rows, left < 4 ? left : 4, plane);
    }
  }
}
#endif

void lk_dwconv2d_image(const lk_window *w, const float *x, int multiplier, const float *weight, const float *bias,
                       int o0, int o1, float *y, float *scratch) {
  if (w->out_h <= 0 || w->out_w <= 0 || multiplier <= 0) return;
  const long plane_in = (long)w->height * w->width, plane_out = (long)w->out_h * w->out_w;
  const int taps = w->kernel_h * w->kernel_w;
  const padded_plane p = plane_size(w);
  // AVX2 handles strides 1 and 2 (every depthwise layer of the common networks); others, and
  // the portable path, take the row axpys.
  enum { MAX_TAPS = 256 };
  int simd = 0;
#if LK_X86
  simd = lk_isa_current() >= LK_ISA_AVX2 && w->stride_w <= 2 && taps <= MAX_TAPS;
#endif
#if LK_ARM64
  simd = lk_isa_neon(lk_isa_current()) && w->stride_w <= 2 && taps <= MAX_TAPS;
#endif
  // Where tap t = (i, j) reads in the padded plane, relative to the output's first tap.
  long offsets[MAX_TAPS];
  for (int t = 0; simd && t < taps; t++)
    offsets[t] = (long)(t / w->kernel_w) * w->dilation_h * p.wp + (long)(t % w->kernel_w) * w->dilation_w;
  int padded_channel = -1;
  for (int o = o0; o < o1; o++) {
    const int c = o / multiplier;
    if (c != padded_channel) {
      pad_channel(w, x + c * plane_in, p, scratch);
      padded_channel = c;
    }
    const float *k = weight + (long)o * taps;
    const float b = bias ? bias[o] : 0.0f;
    float *plane = y + (long)o * plane_out;
#if LK_X86
    if (simd) {
      const int wide = lk_isa_avx512(lk_isa_current());
      plane_tiles(w, scratch, p, k, offsets, b, plane, wide ? 16 : 8, wide ? tile512_of : tile_of);
      continue;
    }
#endif
#if LK_ARM64
    if (simd) {
      lk_dwconv_plane_neon(w, scratch, p.wp, k, offsets, b, plane);
      continue;
    }
#endif
    for (int oy = 0; oy < w->out_h; oy++) row_portable(w, scratch, p, k, b, oy, plane + (long)oy * w->out_w);
  }
  (void)simd;
}
