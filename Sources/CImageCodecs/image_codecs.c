#include "image_codecs.h"

// stdio.h before jpeglib.h, which uses FILE without including it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>

#include <jpeglib.h>
#include <png.h>

static int fail(char *message, size_t message_size, const char *reason) {
  snprintf(message, message_size, "%s", reason);
  return -1;
}

static int too_large(int width, int height, char *message, size_t message_size) {
  if (width <= 0 || height <= 0 || (long long)width * height > LATHE_IMAGE_MAX_PIXELS) {
    snprintf(message, message_size, "image size %dx%d is empty or above the limit of %d pixels", width, height,
             LATHE_IMAGE_MAX_PIXELS);
    return 1;
  }
  return 0;
}

int lathe_png_decode(const unsigned char *data, size_t size, int channels, lathe_image *image, char *message,
                     size_t message_size) {
  memset(image, 0, sizeof *image);
  png_image png;
  memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, data, size)) return fail(message, message_size, png.message);
  if (too_large((int)png.width, (int)png.height, message, message_size)) {
    png_image_free(&png);
    return -1;
  }
  // Read with alpha, then drop it: torchvision's loader (PIL's convert("RGB")) ignores alpha
  // rather than compositing, and libpng would composite when asked for a format without it.
  int kept = channels == 1 ? 1 : 3;
  png.format = channels == 1 ? PNG_FORMAT_GA : PNG_FORMAT_RGBA;
  size_t bytes = PNG_IMAGE_SIZE(png);
  unsigned char *pixels = malloc(bytes);
  if (!pixels) {
    png_image_free(&png);
    return fail(message, message_size, "out of memory");
  }
  if (!png_image_finish_read(&png, NULL, pixels, 0, NULL)) {
    free(pixels);
    int result = fail(message, message_size, png.message);
    png_image_free(&png);
    return result;
  }
  size_t count = (size_t)png.width * png.height;
  for (size_t i = 0; i < count; i++) memmove(pixels + i * kept, pixels + i * (kept + 1), (size_t)kept);
  image->pixels = pixels;
  image->width = (int)png.width;
  image->height = (int)png.height;
  image->channels = kept;
  png_image_free(&png);
  return 0;
}

/// libjpeg's error manager, extended with where to jump back to and room for the message.
typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf escape;
  char reason[JMSG_LENGTH_MAX];
} lathe_jpeg_error;

static void lathe_jpeg_error_exit(j_common_ptr info) {
  lathe_jpeg_error *error = (lathe_jpeg_error *)info->err;
  (*info->err->format_message)(info, error->reason);
  longjmp(error->escape, 1);
}

/// Warnings (a corrupt but decodable stream) are not printed to stderr; libjpeg still
/// decodes what it can, as other viewers do.
static void lathe_jpeg_output_message(j_common_ptr info) { (void)info; }

int lathe_jpeg_decode(const unsigned char *data, size_t size, int channels, lathe_image *image, char *message,
                      size_t message_size) {
  memset(image, 0, sizeof *image);
  struct jpeg_decompress_struct info;
  lathe_jpeg_error error;
  // volatile: assigned after setjmp and read after the longjmp.
  unsigned char *volatile pixels = NULL;
  info.err = jpeg_std_error(&error.base);
  error.base.error_exit = lathe_jpeg_error_exit;
  error.base.output_message = lathe_jpeg_output_message;
  if (setjmp(error.escape)) {
    jpeg_destroy_decompress(&info);
    free(pixels);
    return fail(message, message_size, error.reason);
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, (unsigned long)size);
  jpeg_read_header(&info, TRUE);
  info.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  if (too_large((int)info.image_width, (int)info.image_height, message, message_size)) {
    jpeg_destroy_decompress(&info);
    return -1;
  }
  jpeg_start_decompress(&info);
  int width = (int)info.output_width, height = (int)info.output_height, got = info.output_components;
  size_t stride = (size_t)width * (size_t)got;
  pixels = malloc(stride * (size_t)height);
  if (!pixels) {
    jpeg_destroy_decompress(&info);
    return fail(message, message_size, "out of memory");
  }
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = pixels + (size_t)info.output_scanline * stride;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  image->pixels = pixels;
  image->width = width;
  image->height = height;
  image->channels = got;
  return 0;
}

void lathe_image_free(lathe_image *image) {
  free(image->pixels);
  image->pixels = NULL;
}

int lathe_png_encode(const unsigned char *pixels, int width, int height, int channels, unsigned char **output,
                     size_t *output_size, char *message, size_t message_size) {
  *output = NULL;
  *output_size = 0;
  png_image png;
  memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = (png_uint_32)width;
  png.height = (png_uint_32)height;
  png.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  // First call measures, second writes.
  if (!png_image_write_to_memory(&png, NULL, &size, 0, pixels, 0, NULL)) return fail(message, message_size, png.message);
  unsigned char *buffer = malloc(size);
  if (!buffer) return fail(message, message_size, "out of memory");
  if (!png_image_write_to_memory(&png, buffer, &size, 0, pixels, 0, NULL)) {
    free(buffer);
    return fail(message, message_size, png.message);
  }
  *output = buffer;
  *output_size = size;
  return 0;
}

int lathe_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                      unsigned char **output, size_t *output_size, char *message, size_t message_size) {
  struct jpeg_compress_struct info;
  lathe_jpeg_error error;
  unsigned char *buffer = NULL;
  unsigned long size = 0;
  *output = NULL;
  *output_size = 0;
  info.err = jpeg_std_error(&error.base);
  error.base.error_exit = lathe_jpeg_error_exit;
  error.base.output_message = lathe_jpeg_output_message;
  if (setjmp(error.escape)) {
    jpeg_destroy_compress(&info);
    free(buffer);
    return fail(message, message_size, error.reason);
  }
  jpeg_create_compress(&info);
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = (JDIMENSION)width;
  info.image_height = (JDIMENSION)height;
  info.input_components = channels;
  info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  size_t stride = (size_t)width * (size_t)channels;
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)info.next_scanline * stride);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  *output = buffer;
  *output_size = size;
  return 0;
}

void lathe_buffer_free(unsigned char *buffer) { free(buffer); }
