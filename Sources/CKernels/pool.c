// Pooling windows over NCHW images. Padding never wins a max; for averages the caller chooses
// whether padded cells count (ONNX's count_include_pad).
#include "CKernels.h"
#include <float.h>

/// The common 2x2, stride 2, unpadded window (LeNet's pools): no bounds to check.
static void maxpool_2x2(const lk_window *w, const float *x, float *y, int32_t *argmax) {
  const long plane = (long)w->height * w->width;
  const long planes = (long)w->batch * w->channels;
  for (long pc = 0; pc < planes; pc++) {
    const float *img = x + pc * plane;
    float *out = y + pc * w->out_h * w->out_w;
    int32_t *arg = argmax ? argmax + pc * w->out_h * w->out_w : NULL;
    for (int oy = 0; oy < w->out_h; oy++) {
      const float *r0 = img + (long)(2 * oy) * w->width;
      const float *r1 = r0 + w->width;
      for (int ox = 0; ox < w->out_w; ox++) {
        const int ix = 2 * ox;
        float best = r0[ix];
        int32_t at = 2 * oy * w->width + ix;
        if (r0[ix + 1] > best) { best = r0[ix + 1]; at = 2 * oy * w->width + ix + 1; }
        if (r1[ix] > best) { best = r1[ix]; at = (2 * oy + 1) * w->width + ix; }
        if (r1[ix + 1] > best) { best = r1[ix + 1]; at = (2 * oy + 1) * w->width + ix + 1; }
        out[oy * w->out_w + ox] = best;
        if (arg) arg[oy * w->out_w + ox] = at;
      }
    }
  }
}

/// One output of any window, every tap checked; padding never wins, and the first of equal
/// maxima (row-major over the window) does.
static inline void max_checked(const lk_window *w, const float *img, int oy, int ox, float *y, int32_t *argmax) {
  float best = -FLT_MAX;
  long besti = -1;
  for (int i = 0; i < w->kernel_h; i++) {
    const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
    if (iy < 0 || iy >= w->height) continue;
    for (int j = 0; j < w->kernel_w; j++) {
      const int ix = ox * w->stride_w - w->pad_left + j * w->dilation_w;
      if (ix < 0 || ix >= w->width) continue;
      const float v = img[(long)iy * w->width + ix];
      if (besti < 0 || v > best) { best = v; besti = (long)iy * w->width + ix; }
    }
  }
  *y = besti < 0 ? 0.0f : best;
  if (argmax) *argmax = (int32_t)(besti < 0 ? -1 : besti);
}

/// The 2x2, stride-1 window padded only after (ONNX SAME_UPPER, PP-OCR's detector and
/// recogniser): inside the image the four taps need no checks; the last row and column do.
static void maxpool_2x2_s1(const lk_window *w, const float *x, float *y, int32_t *argmax) {
  const long plane = (long)w->height * w->width;
  const long planes = (long)w->batch * w->channels;
  const int width = w->width;
  const int inner_w = w->out_w < width - 1 ? w->out_w : width - 1;
  for (long pc = 0; pc < planes; pc++) {
    const float *img = x + pc * plane;
    float *out = y + pc * w->out_h * w->out_w;
    int32_t *arg = argmax ? argmax + pc * w->out_h * w->out_w : NULL;
    for (int oy = 0; oy < w->out_h; oy++) {
      const long o = (long)oy * w->out_w;
      int ox = 0;
      if (oy + 1 < w->height) {
        const float *r0 = img + (long)oy * width, *r1 = r0 + width;
        const int32_t at = oy * width;
        for (; ox < inner_w; ox++) {
          float best = r0[ox];
          int32_t i = at + ox;
          if (r0[ox + 1] > best) { best = r0[ox + 1]; i = at + ox + 1; }
          if (r1[ox] > best) { best = r1[ox]; i = at + width + ox; }
          if (r1[ox + 1] > best) { best = r1[ox + 1]; i = at + width + ox + 1; }
          out[o + ox] = best;
          if (arg) arg[o + ox] = i;
        }
      }
      for (; ox < w->out_w; ox++) max_checked(w, img, oy, ox, out + o + ox, arg ? arg + o + ox : NULL);
    }
  }
}

void lk_maxpool2d(const lk_window *w, const float *x, float *y, int32_t *argmax) {
  if (w->kernel_h == 2 && w->kernel_w == 2 && w->stride_h == 2 && w->stride_w == 2 && w->pad_top == 0 &&
      w->pad_left == 0 && w->dilation_h == 1 && w->dilation_w == 1 && 2 * w->out_h <= w->height &&
      2 * w->out_w <= w->width) {
    maxpool_2x2(w, x, y, argmax);
    return;
  }
  if (w->kernel_h == 2 && w->kernel_w == 2 && w->stride_h == 1 && w->stride_w == 1 && w->pad_top == 0 &&
      w->pad_left == 0 && w->dilation_h == 1 && w->dilation_w == 1 && w->width >= 2) {
    maxpool_2x2_s1(w, x, y, argmax);
    return;
  }
  const long plane = (long)w->height * w->width;
  const long planes = (long)w->batch * w->channels;
  for (long pc = 0; pc < planes; pc++) {
    const float *img = x + pc * plane;
    for (int oy = 0; oy < w->out_h; oy++)
      for (int ox = 0; ox < w->out_w; ox++) {
        const long o = (pc * w->out_h + oy) * w->out_w + ox;
        max_checked(w, img, oy, ox, y + o, argmax ? argmax + o : NULL);
      }
  }
}

static inline int avg_divisor(const lk_window *w, int oy, int ox, int include_pad) {
  int count = 0;
  for (int i = 0; i < w->kernel_h; i++) {
    const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
    for (int j = 0; j < w->kernel_w; j++) {
      const int ix = ox * w->stride_w - w->pad_left + j * w->dilation_w;
      const int inside = iy >= 0 && iy < w->height && ix >= 0 && ix < w->width;
      // With include_pad, cells of the explicit padding count but cells past it (ceil_mode) don't.
      const int in_padded = iy >= -w->pad_top && iy < w->height + w->pad_bottom && ix >= -w->pad_left &&
                            ix < w->width + w->pad_right;
      if (inside || (include_pad && in_padded)) count++;
    }
  }
  return count > 0 ? count : 1;
}

void lk_avgpool2d(const lk_window *w, const float *x, float *y, int count_include_pad) {
  const long plane = (long)w->height * w->width;
  const long planes = (long)w->batch * w->channels;
  for (long pc = 0; pc < planes; pc++) {
    const float *img = x + pc * plane;
    for (int oy = 0; oy < w->out_h; oy++) {
      for (int ox = 0; ox < w->out_w; ox++) {
        float sum = 0;
        for (int i = 0; i < w->kernel_h; i++) {
          const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
          if (iy < 0 || iy >= w->height) continue;
          for (int j = 0; j < w->kernel_w; j++) {
            const int ix = ox * w->stride_w - w->pad_left + j * w->dilation_w;
            if (ix < 0 || ix >= w->width) continue;
            sum += img[(long)iy * w->width + ix];
          }
        }
        y[(pc * w->out_h + oy) * w->out_w + ox] = sum / (float)avg_divisor(w, oy, ox, count_include_pad);
      }
    }
  }
}

void lk_avgpool2d_backward(const lk_window *w, const float *dy, float *dx, int count_include_pad) {
  const long plane = (long)w->height * w->width;
  const long planes = (long)w->batch * w->channels;
  for (long pc = 0; pc < planes; pc++) {
    float *img = dx + pc * plane;
    for (int oy = 0; oy < w->out_h; oy++) {
      for (int ox = 0; ox < w->out_w; ox++) {
        const float g = dy[(pc * w->out_h + oy) * w->out_w + ox] /
                        (float)avg_divisor(w, oy, ox, count_include_pad);
        for (int i = 0; i < w->kernel_h; i++) {
          const int iy = oy * w->stride_h - w->pad_top + i * w->dilation_h;
          if (iy < 0 || iy >= w->height) continue;
          for (int j = 0; j < w->kernel_w; j++) {
            const int ix = ox * w->stride_w - w->pad_left + j * w->dilation_w;
            if (ix < 0 || ix >= w->width) continue;
            img[(long)iy * w->width + ix] += g;
          }
        }
      }
    }
  }
}

typedef struct {
  const lk_window *w;
  const float *x;
  float *y;
  int32_t *argmax;
  int per;  // images per task
} pool_split;

static void maxpool_part(void *context, int task) {
  const pool_split *p = context;
  lk_window part = *p->w;
  const int first = task * p->per;
  part.batch = p->w->batch - first < p->per ? p->w->batch - first : p->per;
  if (part.batch <= 0) return;
  const long in = (long)p->w->channels * p->w->height * p->w->width;
  const long out = (long)p->w->channels * p->w->out_h * p->w->out_w;
  lk_maxpool2d(&part, p->x + first * in, p->y + first * out, p->argmax ? p->argmax + first * out : NULL);
}

void lk_maxpool2d_parallel(const lk_window *w, const float *x, float *y, int32_t *argmax) {
  // Below ~64k outputs a split costs more than it saves.
  const long outputs = (long)w->batch * w->channels * w->out_h * w->out_w;
  const int threads = lk_parallel_threads();
  const int tasks = outputs < 65536 || w->batch < 2 ? 1 : (w->batch < threads ? w->batch : threads);
  pool_split split = {w, x, y, argmax, (w->batch + tasks - 1) / tasks};
  lk_parallel_for(tasks, maxpool_part, &split);
}
