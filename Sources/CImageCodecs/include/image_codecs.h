#ifndef LATHE_IMAGE_CODECS_H
#define LATHE_IMAGE_CODECS_H

#include <stddef.h>

/// PNG and JPEG decoding (and encoding, for tests and fixtures) behind plain C calls that never
/// longjmp into Swift: libjpeg reports errors by longjmp from its error_exit, which must land
/// in C, and libpng's simplified png_image_* API catches its own errors. Every call returns 0 on
/// success, or -1 with a one-line reason in `message`.

/// Decoded pixels, 8 bits per channel, rows top to bottom; `pixels` is malloc'ed (free it with
/// lathe_image_free).
typedef struct {
  unsigned char *pixels;
  int width;
  int height;
  /// 1 (gray) or 3 (RGB), as asked for.
  int channels;
} lathe_image;

/// The largest image decoded, in pixels: a corrupt header cannot make us allocate gigabytes.
#define LATHE_IMAGE_MAX_PIXELS (1 << 26)

int lathe_png_decode(const unsigned char *data, size_t size, int channels, lathe_image *image, char *message,
                     size_t message_size);
int lathe_jpeg_decode(const unsigned char *data, size_t size, int channels, lathe_image *image, char *message,
                      size_t message_size);
void lathe_image_free(lathe_image *image);

/// Encodes `pixels` (width x height x channels, channels 1 or 3) into a malloc'ed buffer in
/// *output (free it with lathe_buffer_free).
int lathe_png_encode(const unsigned char *pixels, int width, int height, int channels, unsigned char **output,
                     size_t *output_size, char *message, size_t message_size);
int lathe_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                      unsigned char **output, size_t *output_size, char *message, size_t message_size);
void lathe_buffer_free(unsigned char *buffer);

#endif
