// im2col / col2im: convolution becomes one GEMM per group over the whole batch.
#include "CKernels.h"
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
          for (int oy = 0; oy < w->out_h; oy++) {
            const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
            float *d = dst + oy * w->out_w;
            if (iy < 0 || iy >= w->height) {
              memset(d, 0, sizeof(float) * w->out_w);
              continue;
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
        }
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
