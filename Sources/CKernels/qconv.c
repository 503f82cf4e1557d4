// int8 convolution of one NCHW image: patch rows (im2row) then the int8 GEMM.
//
// Rows, not columns: the GEMM broadcasts 4 consecutive bytes of an A row, so each output
// pixel's patch must be contiguous. The weight [out, in, kh, kw] flattens in the same
// (c, i, j) order, so it packs as an ordinary [out, in*kh*kw] matrix.
#include "simd.h"

#include <string.h>

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

void lk_im2row_u8(const lk_window *w, const uint8_t *x, int c0, int cn, uint8_t pad_value, uint8_t *rows, int ld) {
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

size_t lk_qconv2d_scratch_size(const lk_window *w) {
  return (size_t)w->out_h * w->out_w * patch_stride(w);
}

void lk_qconv2d_image(const lk_window *w, const uint8_t *x, const void *packed, int out_channels,
                      const lk_qoutput *out, float *y_f32, uint8_t *y_u8, void *scratch) {
  const int k = w->channels * w->kernel_h * w->kernel_w;
  const int ld = patch_stride(w);
  uint8_t *rows = scratch;
  lk_im2row_u8(w, x, 0, w->channels, (uint8_t)out->a_zero_point, rows, ld);
  lk_qgemm_nchw(w->out_h * w->out_w, out_channels, k, rows, ld, packed, out, y_f32, y_u8);
}
