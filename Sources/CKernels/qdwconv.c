// int8 depthwise convolution of one NCHW image (groups == channels, one output per channel).
//
// A depthwise layer does only kh*kw multiply-adds per output, so the fp32 kernel (dwconv.c)
// already runs near what its loads allow; int8 wins only if one instruction does several taps.
// vpdpbusd does four u8·s8 products per 32-bit lane, so each padded row is first rewritten as
// "quads": Q[r][q] holds the four bytes pad[r][s*q .. s*q+3] (s the stride, 1 or 2) as one
// 32-bit lane. Taps 4g..4g+3 of kernel row i for output column ox are then one lane,
// Q[oy*sh + i][ox + 4g/s], so a 3x3 window is three vpdpbusd per vector of outputs (the fourth
// weight of each quad is 0) where fp32 needs nine FMAs, and a 5x5 one ten against 25. Each Q
// row is built once and read by kh output rows; building it is one load, one dword permute and
// one in-lane byte shuffle per vector (no VBMI needed, so Cascade Lake's VNNI runs it too).
//
// Without VNNI (AVX2, plain AVX-512) the same quads feed vpmaddwd exactly: the even bytes
// (x0, x2) and odd bytes (x1, x3) of each lane as int16 pairs, times the weight pairs (w0, w2)
// and (w1, w3). That is two multiplies and two adds per quad instead of one, so those paths
// gain far less over fp32; the int8 conversion times each layer and keeps the float one where
// int8 is not faster (Int8Quantize's kernel-truthful rule).
//
// Zero points as in qconv.c: the padding holds the activation zero point zp and the unused
// fourth weights are 0, so Σ (x - zp)·w = acc - zp·Σw exactly. Portable C (any stride and
// dilation) is the reference every path is tested against; strides other than 1 and 2,
// dilation, and kernels wider than 12 take it on every path. NEON takes it too for now.
#include "simd.h"

#include <string.h>

enum { QUAD_ROUND = 16, MAX_KH = 64, MAX_GROUPS = 3 };

/// Where everything lives for one geometry (offsets into a 64-byte aligned scratch).
typedef struct {
  int simd;      // the quad path applies: stride 1 or 2, dilation 1, kw <= 12, kh <= MAX_KH
  int s;         // horizontal stride
  int groups;    // quads per kernel row: ceil(kw / 4)
  int hp;        // padded rows read: (out_h - 1) * stride_h + kh
  int qs;        // quads per Q row (a multiple of 16, covering every vector of outputs)
  int ps;        // bytes of the padded row buffer: s * qs + 64 (the quad builder's loads stay inside)
  size_t q, total;  // offsets: Q plane (after the padded row buffer)
} qdw_plan;

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

static qdw_plan make_plan(const lk_window *w) {
  qdw_plan p;
  memset(&p, 0, sizeof p);
  p.s = w->stride_w;
  p.simd = (w->stride_w == 1 || w->stride_w == 2) && w->dilation_h == 1 && w->dilation_w == 1 && w->kernel_w <= 12 &&
           w->kernel_h <= MAX_KH && w->out_h > 0 && w->out_w > 0;
  if (!p.simd) return p;
  p.groups = (w->kernel_w + 3) / 4;
  p.hp = (w->out_h - 1) * w->stride_h + w->kernel_h;
  // Output vectors read quads [ox, ox + 16) plus 4g/s for the later quads of a row.
  const int needed = (w->out_w + 15) / 16 * 16 + 4 * (p.groups - 1) / p.s;
  p.qs = (needed + QUAD_ROUND - 1) / QUAD_ROUND * QUAD_ROUND;
  p.ps = p.s * p.qs + 64;
  p.q = align64((size_t)p.ps);
  p.total = p.q + (size_t)p.hp * p.qs * 4;
  return p;
}

size_t lk_qdwconv2d_scratch_size(const lk_window *w) {
  const qdw_plan p = make_plan(w);
  return p.simd ? p.total + 64 : 64;
}

/// The input columns [lo, lo + count) that land in the padded row buffer, at column first.
static void row_span(const lk_window *w, const qdw_plan *p, int *lo, int *first, int *count) {
  int l = w->pad_left < 0 ? -w->pad_left : 0;
  int hi = w->width;
  if (hi + w->pad_left > p->ps) hi = p->ps - w->pad_left;
  *lo = l;
  *first = hi > l ? l + w->pad_left : 0;
  *count = hi > l ? hi - l : 0;
}

/// The output stage for one value (portable path and references): see lk_qoutput.
static inline float stage_f32(int32_t acc, int32_t wsum, int32_t zp, float scale, float bias, int relu) {
  float v = (float)(acc - zp * wsum) * scale + bias;
  return relu && v < 0 ? 0.0f : v;
}

/// Portable reference: any stride, dilation and kernel, straight from the image.
static void channel_portable(const lk_window *w, const uint8_t *img, const int8_t *k, int32_t zp, float scale,
                             float bias, int relu, float *y) {
  const int taps = w->kernel_h * w->kernel_w;
  int32_t wsum = 0;
  for (int t = 0; t < taps; t++) wsum += k[t];
  for (int oy = 0; oy < w->out_h; oy++) {
    for (int ox = 0; ox < w->out_w; ox++) {
      int32_t acc = 0;
      for (int i = 0; i < w->kernel_h; i++) {
        const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
        for (int j = 0; j < w->kernel_w; j++) {
          const int ix = ox * w->stride_w - w->pad_left + j * w->dilation_w;
          const int32_t v = iy >= 0 && iy < w->height && ix >= 0 && ix < w->width ? img[(long)iy * w->width + ix] : zp;
          acc += v * k[i * w->kernel_w + j];
        }
      }
      y[(long)oy * w->out_w + ox] = stage_f32(acc, wsum, zp, scale, bias, relu);
    }
  }
}

/// The quad weights of one channel: wq[i * groups + g] = bytes k[i][4g .. 4g+3], 0 past kw.
static void weight_quads(const lk_window *w, const qdw_plan *p, const int8_t *k, int32_t *wq, int32_t *wsum) {
  *wsum = 0;
  for (int i = 0; i < w->kernel_h; i++) {
    for (int g = 0; g < p->groups; g++) {
      uint32_t packed = 0;
      for (int t = 0; t < 4; t++) {
        const int j = 4 * g + t;
        const int8_t v = j < w->kernel_w ? k[i * w->kernel_w + j] : 0;
        *wsum += v;
        packed |= (uint32_t)(uint8_t)v << (8 * t);
      }
      wq[i * p->groups + g] = (int32_t)packed;
    }
  }
}

#if LK_X86
// ---- Quad rows -------------------------------------------------------------------------------

/// Q row from one padded row, 8 quads per step (AVX2): lane L of a 128-bit half takes dwords
/// L..L+3 of the source (stride 1; 2L..2L+3 at stride 2), then a byte shuffle picks each quad.
LK_AVX2 static void quads_avx2(const uint8_t *row, int s, int qs, int32_t *q) {
  const __m256i perm = s == 1 ? _mm256_setr_epi32(0, 1, 2, 3, 1, 2, 3, 4) : _mm256_setr_epi32(0, 1, 2, 3, 2, 3, 4, 5);
  const __m256i shuffle = s == 1 ? _mm256_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6, 0, 1, 2, 3, 1, 2, 3,
                                                    4, 2, 3, 4, 5, 3, 4, 5, 6)
                                 : _mm256_setr_epi8(0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9, 0, 1, 2, 3, 2, 3, 4,
                                                    5, 4, 5, 6, 7, 6, 7, 8, 9);
  for (int x = 0; x < qs; x += 8) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(row + (long)s * x));
    _mm256_storeu_si256((__m256i *)(q + x), _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(v, perm), shuffle));
  }
}

/// quads_avx2 with 16 quads per step (four 128-bit lanes).
LK_AVX512BW static void quads_avx512(const uint8_t *row, int s, int qs, int32_t *q) {
  const __m512i perm = s == 1 ? _mm512_setr_epi32(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6)
                              : _mm512_setr_epi32(0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9);
  const __m128i lane = s == 1 ? _mm_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6)
                              : _mm_setr_epi8(0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9);
  const __m512i shuffle = _mm512_broadcast_i32x4(lane);
  for (int x = 0; x < qs; x += 16) {
    const __m512i v = _mm512_loadu_si512((const void *)(row + (long)s * x));
    _mm512_storeu_si512((void *)(q + x), _mm512_shuffle_epi8(_mm512_permutexvar_epi32(perm, v), shuffle));
  }
}

// ---- Tiles: ROWS output rows by VECS vectors of outputs ----------------------------------------

/// Per-channel constants of the output stage and the tile loops.
typedef struct {
  const int32_t *qplane;  // Q rows of this channel
  const int32_t *wq;      // weight quads [kh][groups]
  int32_t zp_wsum;        // zp * Σ w
  float scale, bias;
  int relu;
} qdw_channel;

/// A quad of 4 weight bytes (w0..w3) as the two int16 pairs vpmaddwd multiplies the even and
/// odd activation bytes by: (w0, w2) and (w1, w3), each sign-extended.
static inline void quad_pairs(uint32_t quad, int32_t *even, int32_t *odd) {
  const uint32_t w0 = (uint16_t)(int16_t)(int8_t)(quad & 0xFF), w1 = (uint16_t)(int16_t)(int8_t)((quad >> 8) & 0xFF);
  const uint32_t w2 = (uint16_t)(int16_t)(int8_t)((quad >> 16) & 0xFF), w3 = (uint16_t)(int16_t)(int8_t)(quad >> 24);
  *even = (int32_t)(w0 | (w2 << 16));
  *odd = (int32_t)(w1 | (w3 << 16));
}

/// AVX2: vpdpbusd emulated exactly with vpmaddwd on the even and odd bytes of each quad.
LK_AVX2 LK_INLINE void tile_avx2(const lk_window *w, const qdw_plan *p, const qdw_channel *ch, int oy, int ox,
                                 int ROWS, int VECS, float *y) {
  __m256i acc[8][4];
  for (int r = 0; r < ROWS; r++)
    for (int v = 0; v < VECS; v++) acc[r][v] = _mm256_setzero_si256();
  const __m256i low = _mm256_set1_epi16(0x00FF);
  for (int i = 0; i < w->kernel_h; i++) {
    for (int g = 0; g < p->groups; g++) {
      const uint32_t quad = (uint32_t)ch->wq[i * p->groups + g];
      int32_t even, odd;
      quad_pairs(quad, &even, &odd);
      const __m256i we = _mm256_set1_epi32(even), wo = _mm256_set1_epi32(odd);
      const int shift = 4 * g / p->s;
      for (int r = 0; r < ROWS; r++) {
        const int32_t *src = ch->qplane + (long)((oy + r) * w->stride_h + i) * p->qs + ox + shift;
        for (int v = 0; v < VECS; v++) {
          const __m256i x = _mm256_loadu_si256((const __m256i *)(src + 8 * v));
          const __m256i xe = _mm256_and_si256(x, low), xo = _mm256_srli_epi16(x, 8);
          acc[r][v] = _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(xe, we));
          acc[r][v] = _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(xo, wo));
        }
      }
    }
  }
  const __m256i zw = _mm256_set1_epi32(ch->zp_wsum);
  const __m256 scale = _mm256_set1_ps(ch->scale), bias = _mm256_set1_ps(ch->bias);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int r = 0; r < ROWS; r++) {
    for (int v = 0; v < VECS; v++) {
      __m256 f = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc[r][v], zw)), scale, bias);
      if (ch->relu) f = _mm256_max_ps(f, _mm256_setzero_ps());
      float *dst = y + (long)(oy + r) * w->out_w + ox + 8 * v;
      const int left = w->out_w - ox - 8 * v;
      if (left >= 8)
        _mm256_storeu_ps(dst, f);
      else
        _mm256_maskstore_ps(dst, _mm256_cmpgt_epi32(_mm256_set1_epi32(left), lane), f);
    }
  }
}

/// The AVX-512 tile, with vpdpbusd (VNNI, `vnni` nonzero) or its vpmaddwd emulation.
LK_AVX512BW LK_INLINE void tile_avx512_body(const lk_window *w, const qdw_plan *p, const qdw_channel *ch, int oy,
                                            int ox, int ROWS, int VECS, float *y, __m512i acc[8][4]) {
  const __m512i zw = _mm512_set1_epi32(ch->zp_wsum);
  const __m512 scale = _mm512_set1_ps(ch->scale), bias = _mm512_set1_ps(ch->bias);
  for (int r = 0; r < ROWS; r++) {
    for (int v = 0; v < VECS; v++) {
      const int left = w->out_w - ox - 16 * v;
      const __mmask16 keep = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
      __m512 f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][v], zw)), scale, bias);
      if (ch->relu) f = _mm512_max_ps(f, _mm512_setzero_ps());
      _mm512_mask_storeu_ps(y + (long)(oy + r) * w->out_w + ox + 16 * v, keep, f);
    }
  }
}

LK_AVX512 LK_INLINE void tile_vnni(const lk_window *w, const qdw_plan *p, const qdw_channel *ch, int oy, int ox,
                                   int ROWS, int VECS, float *y) {
  __m512i acc[8][4];
  for (int r = 0; r < ROWS; r++)
    for (int v = 0; v < VECS; v++) acc[r][v] = _mm512_setzero_si512();
  for (int i = 0; i < w->kernel_h; i++) {
    for (int g = 0; g < p->groups; g++) {
      const __m512i wv = _mm512_set1_epi32(ch->wq[i * p->groups + g]);
      const int shift = 4 * g / p->s;
      for (int r = 0; r < ROWS; r++) {
        const int32_t *src = ch->qplane + (long)((oy + r) * w->stride_h + i) * p->qs + ox + shift;
        for (int v = 0; v < VECS; v++)
          acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], _mm512_loadu_si512((const void *)(src + 16 * v)), wv);
      }
    }
  }
  tile_avx512_body(w, p, ch, oy, ox, ROWS, VECS, y, acc);
}

LK_AVX512BW LK_INLINE void tile_avx512(const lk_window *w, const qdw_plan *p, const qdw_channel *ch, int oy, int ox,
                                       int ROWS, int VECS, float *y) {
  __m512i acc[8][4];
  for (int r = 0; r < ROWS; r++)
    for (int v = 0; v < VECS; v++) acc[r][v] = _mm512_setzero_si512();
  const __m512i low = _mm512_set1_epi16(0x00FF);
  for (int i = 0; i < w->kernel_h; i++) {
    for (int g = 0; g < p->groups; g++) {
      const uint32_t quad = (uint32_t)ch->wq[i * p->groups + g];
      int32_t even, odd;
      quad_pairs(quad, &even, &odd);
      const __m512i we = _mm512_set1_epi32(even), wo = _mm512_set1_epi32(odd);
      const int shift = 4 * g / p->s;
      for (int r = 0; r < ROWS; r++) {
        const int32_t *src = ch->qplane + (long)((oy + r) * w->stride_h + i) * p->qs + ox + shift;
        for (int v = 0; v < VECS; v++) {
          const __m512i x = _mm512_loadu_si512((const void *)(src + 16 * v));
          acc[r][v] = _mm512_add_epi32(acc[r][v], _mm512_madd_epi16(_mm512_and_si512(x, low), we));
          acc[r][v] = _mm512_add_epi32(acc[r][v], _mm512_madd_epi16(_mm512_srli_epi16(x, 8), wo));
        }
      }
    }
  }
  tile_avx512_body(w, p, ch, oy, ox, ROWS, VECS, y, acc);
}

// Each tile function compiled for the shapes the planner asks for: 8 rows of one vector
// (planes up to a vector wide: MobileNet's 7- and 14-wide layers), 4 rows of two, 2 rows of
// three or four on wider planes; the rows left over as one shorter tile. Eight accumulators
// keep vpdpbusd's 5-cycle latency covered where a 3x3 kernel gives each only three.
#define LK_QDW_CASE(TILE, R, V) \
  case R * 8 + V: TILE(w, p, ch, oy, ox, R, V, y); return;
#define LK_QDW_TILES(NAME, TILE, ATTR, LANES)                                                                       \
  ATTR static void NAME(const lk_window *w, const qdw_plan *p, const qdw_channel *ch, int oy, int ox, int rows, \
                        int vecs, float *y) {                                                                    \
    switch (rows * 8 + vecs) {                                                                                   \
      LK_QDW_CASE(TILE, 1, 1) LK_QDW_CASE(TILE, 2, 1) LK_QDW_CASE(TILE, 3, 1) LK_QDW_CASE(TILE, 4, 1)             \
      LK_QDW_CASE(TILE, 5, 1) LK_QDW_CASE(TILE, 6, 1) LK_QDW_CASE(TILE, 7, 1) LK_QDW_CASE(TILE, 8, 1)             \
      LK_QDW_CASE(TILE, 1, 2) LK_QDW_CASE(TILE, 2, 2) LK_QDW_CASE(TILE, 3, 2) LK_QDW_CASE(TILE, 4, 2)             \
      LK_QDW_CASE(TILE, 1, 3) LK_QDW_CASE(TILE, 2, 3) LK_QDW_CASE(TILE, 1, 4) LK_QDW_CASE(TILE, 2, 4)             \
    default:                                                                                                     \
      for (int r = 0; r < rows; r++)                                                                             \
        for (int v = 0; v < vecs; v++) TILE(w, p, ch, oy + r, ox + v * LANES, 1, 1, y);                            \
    }                                                                                                            \
  }
LK_QDW_TILES(tiles_avx2, tile_avx2, LK_AVX2, 8)
LK_QDW_TILES(tiles_avx512, tile_avx512, LK_AVX512BW, 16)
LK_QDW_TILES(tiles_vnni, tile_vnni, LK_AVX512, 16)
#undef LK_QDW_TILES
#undef LK_QDW_CASE

typedef void (*qdw_tile_fn)(const lk_window *w, const qdw_plan *p, const qdw_channel *ch, int oy, int ox, int rows,
                            int vecs, float *y);

/// One channel's output plane in tiles of up to eight accumulators.
static void plane_tiles(const lk_window *w, const qdw_plan *p, const qdw_channel *ch, int lanes, qdw_tile_fn tile,
                        float *y) {
  const int vecs = (w->out_w + lanes - 1) / lanes;
  const int rows = vecs == 1 ? 8 : (vecs == 2 ? 4 : 2);
  for (int oy = 0; oy < w->out_h; oy += rows) {
    const int tile_rows = w->out_h - oy < rows ? w->out_h - oy : rows;
    for (int ox = 0; ox < w->out_w; ox += 4 * lanes) {
      const int left = (w->out_w - ox + lanes - 1) / lanes;
      tile(w, p, ch, oy, ox, tile_rows, left < 4 ? left : 4, y);
    }
  }
}
#endif

void lk_qdwconv2d_image(const lk_window *w, const uint8_t *x, const int8_t *weight, const lk_qoutput *out, int c0,
                        int c1, float *y, void *scratch) {
  if (w->out_h <= 0 || w->out_w <= 0) return;
  const long plane_in = (long)w->height * w->width, plane_out = (long)w->out_h * w->out_w;
  const int taps = w->kernel_h * w->kernel_w;
  const int32_t zp = out->a_zero_point;
  const qdw_plan p = make_plan(w);
  const int isa = lk_isa_current();
  int simd = 0;
#if LK_X86
  simd = p.simd && lk_isa_x86(isa);
  uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
  const int wide = lk_isa_avx512(isa);
  const int lanes = wide ? 16 : 8;
  const qdw_tile_fn tile = isa == LK_ISA_AVX512VNNI ? tiles_vnni : (wide ? tiles_avx512 : tiles_avx2);
  int32_t *qplane = (int32_t *)(base + p.q);
  int lo = 0, first = 0, count = 0;
  if (simd) {
    row_span(w, &p, &lo, &first, &count);
    memset(base, zp, p.ps);
  }
#endif
  (void)scratch;
  for (int c = c0; c < c1; c++) {
    const int8_t *k = weight + (long)c * taps;
    const float scale = out->a_scale * out->w_scale[c];
    const float bias = out->bias ? out->bias[c] : 0.0f;
    float *plane = y + (long)c * plane_out;
#if LK_X86
    if (simd) {
      int32_t wq[MAX_KH * MAX_GROUPS], wsum;
      weight_quads(w, &p, k, wq, &wsum);
      // Only the image columns of the row buffer change from row to row, and only the Q rows
      // inside the image from channel to channel: the zero-point padding is written once.
      const int first_channel = c == c0;
      const uint8_t *img = x + c * plane_in;
      for (int r = 0; r < p.hp; r++) {
        const int iy = r - w->pad_top;
        const int inside = iy >= 0 && iy < w->height && count > 0;
        if (!inside && !first_channel) continue;
        if (inside) lk_copy_bytes(base + first, img + (long)iy * w->width + lo, count);
        if (!inside) memset(base + first, zp, count);
        if (wide)
          quads_avx512(base, p.s, p.qs, qplane + (long)r * p.qs);
        else
          quads_avx2(base, p.s, p.qs, qplane + (long)r * p.qs);
      }
      const qdw_channel ch = {qplane, wq, zp * wsum, scale, bias, out->relu};
      plane_tiles(w, &p, &ch, lanes, tile, plane);
      continue;
    }
#endif
    channel_portable(w, x + c * plane_in, k, zp, scale, bias, out->relu, plane);
  }
  (void)simd;
  (void)isa;
}
