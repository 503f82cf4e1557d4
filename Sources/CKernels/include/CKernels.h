// CKernels: the loops Swift cannot make fast enough on its own.
//
// Every function works on plain contiguous row-major float buffers; the Swift side owns
// memory, shapes and autodiff. Instruction sets are picked at run time (see cpu.c), never at
// build time, so one binary runs on any x86-64 or aarch64 machine.
#ifndef LATHE_CKERNELS_H
#define LATHE_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- CPU features and threads -------------------------------------------------------------

/// Bit set of the instruction-set extensions this CPU offers (LK_CPU_* below).
enum {
  LK_CPU_AVX2 = 1 << 0,
  LK_CPU_FMA = 1 << 1,
  LK_CPU_AVX512F = 1 << 2,
  LK_CPU_AVX512VNNI = 1 << 3,
  LK_CPU_AVXVNNI = 1 << 4,
  LK_CPU_NEON = 1 << 5,
};
int lk_cpu_features(void);

/// Makes the calling thread treat subnormal floats as zero (cpu.c says why). Cheap; idempotent.
void lk_flush_subnormals(void);

/// y[i] = max(x[i], 0) for n elements (x == y allowed), split over the thread pool when large.
void lk_relu(const float *x, float *y, long n);
/// y[i] = max(0, min(1, alpha * x[i] + beta)) (ONNX HardSigmoid), split like lk_relu.
void lk_hard_sigmoid(const float *x, float *y, long n, float alpha, float beta);
/// y[i] = x[i] * max(0, min(1, x[i] / 6 + 1/2)) (ONNX HardSwish), split like lk_relu.
void lk_hard_swish(const float *x, float *y, long n);
/// Softmax over each of `rows` contiguous rows of n floats (x == y allowed), max subtracted
/// first; exp to about 2 ulp (activation.c), AVX2 where the ISA allows.
void lk_softmax_rows(const float *x, float *y, long rows, long n);
/// y[i] = erf(x[i]) to about 3e-7 relative (activation.c: series and Abramowitz-Stegun, no libm).
void lk_erf(const float *x, float *y, long n);
/// y[i] = x[i] * (1 + erf(x[i] / sqrt 2)) / 2, GELU's exact form, with lk_erf's erf.
void lk_gelu(const float *x, float *y, long n);

/// The operators lk_binary applies.
enum { LK_BINARY_ADD = 0, LK_BINARY_SUB = 1, LK_BINARY_MUL = 2, LK_BINARY_DIV = 3 };
/// y[i] = a[i*sa] op b[i*sb] for i < n (strides 0 for a broadcast operand; elementwise.c),
/// split over the thread pool when long. y may be a or b when its stride is 1.
void lk_binary(int op, const float *a, long sa, const float *b, long sb, float *y, long n);

/// y[r] = the sum of x[r*run ..< (r+1)*run] for r < rows (elementwise.c), eight partial sums
/// at a time.
void lk_row_sums(const float *x, long rows, long run, float *y);

/// Which GEMM runs: "openblas-<kernel family>" or "portable" when OpenBLAS is not installed.
const char *lk_sgemm_backend(void);

/// A weight packed once for products with few rows (packed_gemm.c): w is [n, k] row-major, a
/// Linear's weight (one row per output); the packed form takes lk_sgemm_packed_floats(n, k)
/// floats: panels of 16 outputs, each [k][16], zero-padded past n.
long lk_sgemm_packed_floats(int n, int k);
void lk_sgemm_pack(int n, int k, const float *w, float *packed);
/// y[m, n] = x[m, k] · wᵀ + bias (bias may be NULL) with w packed by lk_sgemm_pack; panels are
/// split over the pool above LK_GEMM_SPLIT_WORK multiply-adds. The ISA follows lk_isa_current.
void lk_sgemm_packed(int m, int n, int k, const float *x, int ldx, const float *packed, const float *bias, float *y,
                     int ldy);
/// 1 when lk_sgemm_packed with m rows is faster than lk_sgemm on this CPU's current ISA.
int lk_sgemm_packed_pays(int m);

/// Below this many multiply-adds a GEMM runs on one thread. Measured: LeNet-5's conv2 at batch 1
/// (470k, ~5 µs) lost 5 µs when split in two (two OpenBLAS calls' set-up and the hand-off cost
/// more than half the product); the training products (7.5M at batch 32) gain. Layers that
/// parallelise over images or rows use the same bound (Parallel.smallGEMMWork).
#define LK_GEMM_SPLIT_WORK 2097152

/// Threads one fp32 GEMM is split over (at most the pool's; OpenBLAS itself runs single-threaded
/// on each part, so Lathe has one pool of threads, not two competing ones).
void lk_set_num_threads(int threads);
int lk_get_num_threads(void);

/// One parallel loop (threadpool.c): fn(context, t) for every t in 0..<tasks, spread over the
/// pool's threads, the caller's included; returns when all have run. Tasks write disjoint
/// memory. A task that starts another parallel loop runs it serially.
typedef void (*lk_task_fn)(void *context, int task);
void lk_parallel_for(int tasks, lk_task_fn fn, void *context);

/// Threads the pool runs on, the caller included: LK_THREADS if set, else the online cores.
int lk_parallel_threads(void);

// ---- Dense linear algebra -----------------------------------------------------------------

/// C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, row-major, through the BLAS.
/// lda/ldb/ldc are the row strides of A, B and C as stored.
void lk_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);

/// The same product without the BLAS (used when OpenBLAS is missing; tests compare the two).
void lk_sgemm_portable(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc);

// ---- Convolution helpers (NCHW) -----------------------------------------------------------

/// Geometry of one 2-D convolution or pooling window.
typedef struct {
  int batch, channels, height, width;      // input
  int kernel_h, kernel_w;
  int stride_h, stride_w;
  int pad_top, pad_left;
  int dilation_h, dilation_w;
  int out_h, out_w;
  int pad_bottom, pad_right;               // trailing padding (count_include_pad divisors)
} lk_window;

/// Unfolds channels [c0, c0+cn) of every image into columns:
/// cols[(c*kh + i)*kw + j][n*out_h*out_w + p], zero where the window hangs over the padding.
void lk_im2col(const lk_window *w, const float *x, int c0, int cn, float *cols);

/// lk_im2col for output rows [oy0, oy1) of one image (x [channels, height, width]):
/// cols[(c*kh + i)*kw + j][(oy - oy0)*out_w + ox]. Large images are unfolded band by band so
/// the columns stay in cache instead of taking hundreds of megabytes.
void lk_im2col_rows(const lk_window *w, const float *x, int c0, int cn, int oy0, int oy1, float *cols);

/// Floats of scratch lk_conv2d_image_direct needs for channels [c0, c0+cn) of this geometry
/// (w->batch ignored), or 0 when it does not apply (stride other than 1, or a window so wide
/// that the virtual grid would be over twice the output).
size_t lk_conv2d_direct_scratch(const lk_window *w, int cn, int out_channels);
/// One image's convolution over channels [c0, c0+cn) of x [channels, height, width] with
/// weight [out_channels, cn*kh*kw]: y [out_channels, out_h, out_w] = conv + bias (bias may be
/// NULL). Stride 1 only: the im2col rows are whole runs of the zero-padded image over a grid
/// as wide as it (conv.c). Returns 0, doing nothing, where lk_conv2d_direct_scratch is 0.
int lk_conv2d_image_direct(const lk_window *w, const float *x, int c0, int cn, const float *weight,
                           int out_channels, const float *bias, float *y, float *scratch);

/// Floats of scratch lk_dwconv2d_image needs for this geometry (one padded channel).
size_t lk_dwconv2d_scratch(const lk_window *w);
/// Depthwise convolution of one image (groups == channels, `multiplier` output channels per
/// input channel): y [o, out_h, out_w] for output channels o in [o0, o1) of x [channels, height,
/// width] with weight [channels*multiplier, kh*kw]; bias may be NULL. Each channel is copied
/// into a zero-padded plane in `scratch` and convolved there (dwconv.c): AVX2 for strides 1
/// and 2 where the ISA allows (lk_isa_force), else portable C.
void lk_dwconv2d_image(const lk_window *w, const float *x, int multiplier, const float *weight, const float *bias,
                       int o0, int o1, float *y, float *scratch);

/// The adjoint of lk_im2col: adds columns back into dx (which the caller zeroes first).
void lk_col2im(const lk_window *w, const float *cols, int c0, int cn, float *dx);

/// [C, N, P] -> [N, C, P] and back: GEMM output order versus NCHW order.
void lk_cnp_to_ncp(const float *src, float *dst, int c, int n, int p);
void lk_ncp_to_cnp(const float *src, float *dst, int n, int c, int p);

/// Max pooling: writes the maximum and the flat input index it came from (for backward).
void lk_maxpool2d(const lk_window *w, const float *x, float *y, int32_t *argmax);
/// lk_maxpool2d with the batch split over the thread pool (images are independent).
void lk_maxpool2d_parallel(const lk_window *w, const float *x, float *y, int32_t *argmax);
/// Average pooling; count_include_pad chooses the divisor at the borders.
void lk_avgpool2d(const lk_window *w, const float *x, float *y, int count_include_pad);
void lk_avgpool2d_backward(const lk_window *w, const float *dy, float *dx, int count_include_pad);

// =========================================================================================
// int8 inference, sparse layers and quantization (isa.c, quantize.c, qgemm.c, qconv.c,
// sparse.c)
//
// These kernels pick their instruction set once per process: AVX-512 VNNI, AVX-VNNI, AVX-512,
// AVX2, NEON with or without dot products, or portable C. Everything is single-threaded and works on a range
// of rows given by pointers, so callers spread big products over cores by handing each worker
// a disjoint block of rows (a + m0*lda, y + m0*ldy, m1 - m0 rows); nothing is shared.
// =========================================================================================

// ---- Instruction-set paths ---------------------------------------------------------------

enum {
  LK_ISA_PORTABLE = 0,    // plain C, every machine
  LK_ISA_NEON = 1,        // aarch64 Advanced SIMD (every ARMv8-A core)
  LK_ISA_NEON_DOT = 2,    // NEON + SDOT/UDOT (ARMv8.2 dotprod: Graviton 2+, Apple M1+, Pi 5)
  LK_ISA_AVX2 = 3,        // avx2 + fma (every x86 path below includes it)
  LK_ISA_AVX512 = 4,      // avx512f/bw/vl without VNNI (Skylake-SP/X, Cascade Lake without VNNI)
  LK_ISA_AVXVNNI = 5,     // avx2 + fma + 256-bit vpdpbusd
  LK_ISA_AVX512VNNI = 6,  // avx512f/bw/vl + 512-bit vpdpbusd
  LK_ISA_COUNT = 7,
};

/// 1 when this CPU can run the path `isa` (LK_ISA_*).
int lk_isa_supported(int isa);
/// The fastest supported path; what the kernels use unless forced or named by LK_ISA.
int lk_isa_best(void);
/// The path the kernels use now: the forced one, else LK_ISA's, else the best.
int lk_isa_current(void);
/// Makes every kernel below use `isa` (for tests and benchmarks). Returns 0, changing
/// nothing, when the CPU lacks it; a negative `isa` returns to the default path: the one the
/// environment variable LK_ISA names (e.g. LK_ISA=avx2), else the best.
int lk_isa_force(int isa);
/// "portable", "neon", "neon-dot", "avx2", "avx512", "avx-vnni" or "avx512-vnni".
const char *lk_isa_name(int isa);

// ---- Quantization ------------------------------------------------------------------------
//
// Rounding is to nearest, ties to even (the CPU's default mode, as ONNX QuantizeLinear and
// PyTorch), applied to x * (1/scale): a multiply, not a divide, so a value within one ulp
// of a tie may round differently from x / scale.

/// q[i] = clamp(round(x[i] / scale) + zero_point, 0, 255).
void lk_quantize_u8(const float *x, long count, float scale, int32_t zero_point, uint8_t *q);
/// Symmetric: q[i] = clamp(round(x[i] / scale), -127, 127) (-128 is left unused so that the
/// range is symmetric; the GEMM accepts it all the same).
void lk_quantize_s8(const float *x, long count, float scale, int8_t *q);
/// x[i] = (q[i] - zero_point) * scale.
void lk_dequantize_u8(const uint8_t *q, long count, float scale, int32_t zero_point, float *x);
/// x[i] = q[i] * scale.
void lk_dequantize_s8(const int8_t *q, long count, float scale, float *x);
/// Smallest and largest of x[0..count) (both 0 when count is 0; NaNs are skipped on the SIMD
/// paths only when they are not the first element, so keep them out).
void lk_minmax_f32(const float *x, long count, float *min, float *max);

// ---- int8 GEMM ---------------------------------------------------------------------------
//
// C[m,n] = A[m,k] · W[n,k]ᵀ with A unsigned 8-bit activations (row stride lda) and W signed
// 8-bit weights stored [out = n, in = k] like a PyTorch Linear, accumulated exactly in int32
// (exact while k <= 65536). W is packed once (lk_qgemm_pack) into panels of 16 output
// columns × k rounded up to 4, the layout vpdpbusd reads, followed by the per-column sums
// Σ_k W[j,k] used for the activation zero point. Any m, n, k >= 1 works; m = 1 takes a
// GEMV-shaped loop over 4 panels at a time.

/// Bytes lk_qgemm_pack writes for an [n, k] weight (a multiple of 64). Align the buffer to
/// 64 bytes for best speed.
size_t lk_qgemm_pack_size(int n, int k);
/// Packs W [n, k] (row stride k) into `packed` (lk_qgemm_pack_size(n, k) bytes).
void lk_qgemm_pack(const int8_t *w, int n, int k, void *packed);
/// The column sums stored in a packed weight: wsum[j] = Σ_k W[j,k], n values.
const int32_t *lk_qgemm_packed_sums(const void *packed, int n, int k);

/// How int32 accumulators become outputs (the "output stage"), for column j of row i:
///   v = (acc[i,j] - a_zero_point * wsum[j]) * a_scale * w_scale[j] + bias[j]
///   v = max(v, 0) if relu
/// then f32 outputs store v, and u8 outputs (lk_qconv2d_image's y_u8) store
/// clamp(round(v / out_scale) + out_zero_point, 0, 255) (ties to even, by multiplying with
/// 1/out_scale). Per-tensor weight quantization passes n equal w_scale values; per-channel
/// passes one per output row of W.
typedef struct {
  int32_t a_zero_point;    // zero point of A (the u8 activations)
  float a_scale;           // scale of A
  const float *w_scale;    // [n] weight scale per output column
  const float *bias;       // [n] in real units, or NULL
  int relu;                // nonzero: clamp at 0 before storing
  float out_scale;         // u8 output only: scale of the output
  int32_t out_zero_point;  // u8 output only: zero point of the output
} lk_qoutput;

/// Fused output stage to float: y[i*ldy + j] = v (see lk_qoutput).
void lk_qgemm_f32(int m, int n, int k, const uint8_t *a, int lda, const void *packed, const lk_qoutput *out,
                  float *y, int ldy);

// ---- int8 convolution (one image, NCHW) --------------------------------------------------
//
// Convolution with weight [out, in, kh, kw] (groups = 1) is a GEMM with W = that weight seen
// as [out, in*kh*kw]: pack it once with lk_qgemm_pack(w, out, in*kh*kw, packed).
// lk_qconv2d_image runs one image; run images on different cores for a batch. Two methods
// read the same packed weights (qconv.c):
//   columns: the image unfolded as [k/4][pixels][4] bytes (for stride 1 a byte interleave of
//            runs of the padded image), vpdpbusd over 16 pixels of an output channel per
//            register, so NCHW rows come out contiguous; used for stride 1.
//   rows:    im2row (one patch row per output pixel) then the GEMM with pixels as rows; used
//            for other strides.

enum { LK_QCONV_ROWS = 0, LK_QCONV_COLUMNS = 1 };

/// Bytes of scratch lk_qconv2d_image needs for this geometry (either method; 64-byte
/// alignment helps but is not required).
size_t lk_qconv2d_scratch_size(const lk_window *w);
/// One image: y [out_channels, out_h, out_w] = conv(x [channels, height, width]) through the
/// output stage `out` (its a_zero_point also pads the borders). Writes float y_f32 unless it
/// is NULL, else u8 y_u8. `packed` holds W [out_channels, channels*kh*kw].
void lk_qconv2d_image(const lk_window *w, const uint8_t *x, const void *packed, int out_channels,
                      const lk_qoutput *out, float *y_f32, uint8_t *y_u8, void *scratch);
/// The method lk_qconv2d_image uses for this layer (LK_QCONV_*).
int lk_qconv2d_method(const lk_window *w, int out_channels);
/// Makes lk_qconv2d_image use `method` (tests and benchmarks); negative: automatic again.
/// Returns 0, changing nothing, for an unknown method.
int lk_qconv2d_force(int method);

// ---- int8 depthwise convolution (one image, NCHW) ----------------------------------------
//
// groups == channels, one output channel per input channel: weight [channels, kh*kw] as s8,
// out->w_scale and out->bias indexed by channel. Strides 1 and 2 without dilation (kernels up
// to 12 wide) run vpdpbusd on AVX-512 VNNI, its exact vpmaddwd form on AVX2 and plain AVX-512,
// over rows of the image rewritten as 4-byte quads (qdwconv.c); everything else, and ARM for
// now, runs portable C. Exact: every path gives the same int32 sums.

/// Bytes of scratch lk_qdwconv2d_image needs for this geometry (any alignment).
size_t lk_qdwconv2d_scratch_size(const lk_window *w);
/// Channels [c0, c1) of one image: y[c, out_h, out_w] (float, through the output stage `out`,
/// whose a_zero_point also pads the borders) = depthwise conv of x [channels, height, width].
void lk_qdwconv2d_image(const lk_window *w, const uint8_t *x, const int8_t *weight, const lk_qoutput *out, int c0,
                        int c1, float *y, void *scratch);

// ---- Weight-only group-quantized GEMM (wqgemm.c) ----------------------------------------
//
// ggml's Q8_0 / Q4_0 idea: W [n, k] holds signed integers (int8 in -127...127, or int4 in
// -8...7) in groups of `group` consecutive inputs per row (group a multiple of 32; the last
// group of a row is shorter when k is not a multiple of it), with one float scale per group,
// w_scale[j * groups + g], groups = ceil(k / group). Activations are quantized per row to s8
// (symmetric, one scale per row), each group's dot product is exact in int32, and groups are
// summed in fp32:  y[i,j] = a_scale[i] · Σ_g w_scale[j,g] · Σ_{c in g} A[i,c] W[j,c] + bias[j].
// Rows are padded with zeros to lk_wq_padded(k) = k rounded up to 32, in A and in the packed W.
// Packed int4 rows hold, for each block of 32 elements, 16 bytes: byte t has element t in its
// low nibble and element t + 16 in its high nibble, each stored as q + 8.

/// k rounded up to a multiple of 32: the row length of quantized activations and packed weights.
int lk_wq_padded(int k);
/// Bytes of one packed weight row: the levels (lk_wq_padded(k) bytes, halved for 4 bits), then
/// the int32 sum of each group's levels (the VNNI paths' zero-point correction).
size_t lk_wq_row_bytes(int k, int bits, int group);
/// Packs W [n, k] (one signed value per byte, row stride k; bits 8 or 4) into n rows of
/// lk_wq_row_bytes(k, bits, group) bytes.
void lk_wq_pack(const int8_t *w, int n, int k, int bits, int group, void *packed);
/// Quantizes x [m, k] per row: scale[i] = max|x[i,:]| / 127 (1 for an all-zero row),
/// q [m, lk_wq_padded(k)] = round(x / scale), zero padded.
void lk_wq_quantize_rows(const float *x, int m, int k, int8_t *q, float *scale);
/// out[j] = 128 · Σ_g w_scale[j,g] · Σ_{c in g} W[j,c]: what the VNNI paths, which read the
/// activations as u8 = s8 + 128, take back out of row j. Depends only on the weights, so a layer
/// computes it once.
void lk_wq_row_offsets(const void *packed, int n, int k, int bits, int group, const float *w_scale, float *out);
/// y[i * ldy + j] for m activation rows (a from lk_wq_quantize_rows) and n packed weight rows.
/// row_offsets: lk_wq_row_offsets of these rows, or NULL to compute them here. Allocates a
/// little scratch (activations as u8 on VNNI paths; four unpacked int4 rows for m > 1).
/// Split work over cores by rows of a (a, a_scale, y) or of W (packed + j0 * row bytes,
/// w_scale + j0 * groups, row_offsets + j0, bias + j0, y + j0). bias may be NULL.
void lk_wq_gemm_f32(int m, int n, int k, int bits, int group, const int8_t *a, const float *a_scale,
                    const void *packed, const float *w_scale, const float *row_offsets, const float *bias, float *y,
                    int ldy);

// ---- Sparse fp32 layers (CSR) ------------------------------------------------------------
//
// A pruned Linear weight W [rows = out, cols = in] in compressed sparse rows: the nonzeros of
// row r are values[row_ptr[r] ..< row_ptr[r+1]] at columns col_idx[same range].

/// Fills row_ptr [rows+1] from the dense row-major W and returns nnz (exact zeros dropped).
/// When col_idx and values are not NULL (nnz entries each) fills them too; call once with
/// NULL to size them.
long lk_csr_from_dense(const float *w, int rows, int cols, int32_t *row_ptr, int32_t *col_idx, float *values);

/// Batch 1: y[r] = Σ W[r,c] x[c] + bias[r] (bias may be NULL).
void lk_spmv(int rows, int cols, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
             const float *x, const float *bias, float *y);
/// The same product in the "sliced" layout (sparse.c): rows (in row_order, or natural order
/// when NULL) in slices of 16, columns in blocks of `block` (at most 256), each (slice, block)
/// entry a number of steps of 16 lane indices and 16 values. Needs no gathers, which are slow
/// on recent Xeons. lk_sliced_from_csr fills the arrays (sizes: slice_entries
/// ceil(rows/16)+1; entry_* *entries; step_* 16 × the returned step count); with NULL arrays
/// it only counts (returns steps, sets *entries).
long lk_sliced_from_csr(int rows, int cols, int block, const int32_t *row_ptr, const int32_t *col_idx,
                        const float *values, const int32_t *row_order, int32_t *slice_entries, int32_t *entry_block,
                        int32_t *entry_steps, float *step_values, uint8_t *step_lanes, long *entries);
/// The block width the current path's sliced kernel reads (32 on AVX-512, 16 elsewhere); a
/// layout of another width still computes, in portable C.
int lk_sliced_block(void);
/// y[rows] = W·x + bias, with ReLU when relu != 0; block and row_order as given to
/// lk_sliced_from_csr.
void lk_spmv_sliced(int rows, int cols, int block, const int32_t *slice_entries, const int32_t *entry_block,
                    const int32_t *entry_steps, const float *step_values, const uint8_t *step_lanes,
                    const int32_t *row_order, const float *x, const float *bias, int relu, float *y);
/// Floats of scratch lk_spmm uses (pass NULL scratch to let it allocate).
size_t lk_spmm_scratch_size(int rows, int cols);
/// A batch: y[b, r] = Σ W[r,c] x[b, c] + bias[r] for x [batch, cols], y [batch, rows]. Runs
/// 64 batch rows at a time over a transposed copy of x so that each nonzero scales a
/// contiguous vector.
void lk_spmm(int batch, int rows, int cols, const int32_t *row_ptr, const int32_t *col_idx, const float *values,
             const float *x, const float *bias, float *y, float *scratch);

// ---- 2:4 semi-structured sparse fp32 layers (sparse24.c) ---------------------------------------
//
// W [n = out, k = in] with k a multiple of 4 keeps at most 2 weights in every block of 4
// consecutive inputs of a row: values [n][k/2] (block b's two kept weights at 2b, 2b + 1) and
// positions [n][k/4], one byte per block, p0 | p1 << 2 (each 0..3: where in the block the
// value at 2b, 2b + 1 sits). Packed once into groups of 16 outputs for the kernels.

/// Bytes of the packed form of an [n, k] 2:4 weight.
long lk_sp24_packed_bytes(int n, int k);
void lk_sp24_pack(int n, int k, const float *values, const uint8_t *positions, void *packed);
/// y[m, n] = x[m, k] · Wᵀ + bias (bias may be NULL) with W packed by lk_sp24_pack; made for
/// few rows (batch 1..8). Groups are split over the pool above LK_GEMM_SPLIT_WORK
/// multiply-adds. The ISA follows lk_isa_current.
void lk_sp24_gemm(int m, int n, int k, const float *x, int ldx, const void *packed, const float *bias, float *y,
                  int ldy);

#ifdef __cplusplus
}
#endif
#endif
