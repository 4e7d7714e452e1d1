/*
 * nin.h - the C API of nin, a compact int8 inference runtime for Network-in-Network CNNs.
 *
 * This is the only header a user reads. Link with -lnin (or `pkg-config --cflags --libs nin`).
 *
 * Usage
 * -----
 *     nin_model *model = NULL;
 *     if (nin_model_load_file("models/fashion_classic.nin", &model) != NIN_OK) {
 *         fprintf(stderr, "%s\n", nin_last_error());
 *         return 1;
 *     }
 *     nin_context_params params = nin_context_default_params();
 *     nin_context *ctx = NULL;
 *     nin_context_create(model, &params, &ctx);
 *
 *     nin_image img;
 *     nin_image_load_png("examples/images/test_00000_ankle_boot.png", &img);
 *     nin_run_images(ctx, &img, 1);          // any size, 1-4 channels: converted and resized
 *
 *     int top[3]; float prob[3];
 *     nin_context_top_k(ctx, 0, 3, top, prob);
 *     printf("%s %.3f\n", nin_model_label(model, top[0]), prob[0]);
 *
 *     nin_image_free(&img);
 *     nin_context_free(ctx);
 *     nin_model_free(model);
 *
 * Conventions
 * -----------
 * - Every fallible function returns a nin_status; results come back through out-parameters,
 *   which are left untouched on failure. NIN_OK is 0.
 * - After a failure, nin_last_error() says in one sentence what was wrong. It is per thread.
 * - Handles are opaque. A nin_model is immutable once loaded and may be shared by any number of
 *   threads and contexts. A nin_context holds the memory (one arena) and worker threads of one
 *   inference stream; use it from one thread at a time. A call that overlaps another call on
 *   the same context from a second thread (a run, or a result getter during a run) is refused
 *   with NIN_ERROR_STATE, "context is in use by another thread": never a crash or a torn result.
 *   Freeing a context while another thread uses it is still undefined.
 * - Fork: models and contexts stay usable in the child of fork() (Python's multiprocessing
 *   "fork" start method, a pre-forking server). The child has none of the parent's worker
 *   threads: its first run on a context with threads > 1 starts new workers (if that fails, it
 *   runs on the calling thread alone), results are the same bits, and nin_context_free never
 *   waits for the parent's threads. The parent is unaffected.
 * - AMX (Intel Xeon since Sapphire Rapids): where the CPU has AMX-TILE and AMX-INT8, the first
 *   model load asks Linux once for the process's AMX tile data permission (arch_prctl
 *   ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA); if refused, nin uses AVX-512 (NIN_ISA=amx then says
 *   why on stderr). A forked child inherits the permission. Granted, every thread's signal frame
 *   grows by the 8 KiB tile state: size alternate signal stacks from getauxval(AT_MINSIGSTKSZ),
 *   not MINSIGSTKSZ. Each thread of a run loads its tile configuration once, at its first AMX
 *   layer; when the run ends the calling thread releases its tiles (tilerelease), while the
 *   context's worker threads keep theirs until nin_context_free ends them. A host that keeps
 *   its own AMX tiles on the calling thread across a nin call must reload them after it.
 * - File names are passed to the OS byte for byte: any name Linux allows works, UTF-8 or not.
 * - NULL handles and NULL buffers are refused with NIN_ERROR_INVALID_ARGUMENT, never crash.
 *   Freed handles are recognized and refused where detectable (double free, use after free).
 * - Nothing allocates during a run: all memory is planned when the context is created.
 * - Tensors are laid out as documented per function; quantization is in docs/QUANTIZATION.md,
 *   the model file in docs/FORMAT.md, image preparation in docs/PREPROCESSING.md.
 */
#ifndef NIN_H
#define NIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ---------------------------------------------------------------------------- */

#define NIN_VERSION_MAJOR 0
#define NIN_VERSION_MINOR 1
#define NIN_VERSION_PATCH 0
/** The version as a string literal, "MAJOR.MINOR.PATCH". */
#define NIN_VERSION_STRING "0.1.0"

/** The library's version string ("0.1.0"); compare with NIN_VERSION_STRING to detect a
 *  header/library mismatch. Static storage; never NULL. */
const char *nin_version(void);

/* ---- Status and errors ------------------------------------------------------------------ */

/** Result of every fallible call. */
typedef enum nin_status {
    NIN_OK = 0,                       /**< success */
    NIN_ERROR_INVALID_ARGUMENT = 1,   /**< NULL pointer, out-of-range value, freed handle */
    NIN_ERROR_IO = 2,                 /**< a file could not be opened, read or mapped */
    NIN_ERROR_BAD_MODEL = 3,          /**< the model file breaks a rule of docs/FORMAT.md */
    NIN_ERROR_BAD_IMAGE = 4,          /**< the image is corrupt, unsupported or too large */
    NIN_ERROR_BUFFER_TOO_SMALL = 5,   /**< a caller buffer (arena, output) is smaller than needed */
    NIN_ERROR_OUT_OF_MEMORY = 6,      /**< an allocation failed (only at load/create time) */
    NIN_ERROR_STATE = 7               /**< the call is valid but not now (e.g. results before a run) */
} nin_status;

/** A short constant name for a status ("NIN_ERROR_BAD_MODEL"); "unknown status" for values
 *  outside the enum. Static storage; never NULL. */
const char *nin_status_string(nin_status status);

/** The message of the last failed call on this thread, e.g. "model file: section WGHT ends
 *  at byte 70912 but the file has 70000 bytes". "" if no call has failed on this thread.
 *  Valid until the next failing nin_* call on this thread. Never NULL. */
const char *nin_last_error(void);

/* ---- Models ----------------------------------------------------------------------------- */

/** A loaded, validated model. Immutable; thread-safe to share. */
typedef struct nin_model nin_model;

/** Writes the path of the shipped default model into `buffer` (NUL-terminated): $NIN_MODEL
 *  when set; else the first readable fashion_classic.nin among models/ beside libnin.so (a
 *  Python wheel), ../share/nin/models/ of its folder (an install), ../../../models/ (a checkout's
 *  .build/<triple>/release) and ./models/. nin-infer uses the same list from its executable.
 *  NIN_ERROR_IO naming every place when none exists; NIN_ERROR_BUFFER_TOO_SMALL when the path
 *  and its NUL do not fit in `capacity` bytes. */
nin_status nin_default_model_path(char *buffer, size_t capacity);

/** Maps and validates the .nin file at `path`; weights are used in place from the mapping.
 *  On success *out_model owns the mapping; release it with nin_model_free. */
nin_status nin_model_load_file(const char *path, nin_model **out_model);

/** Validates a .nin image already in memory. The model reads `data` in place (no copy) when
 *  it is 64-byte aligned, so the caller must keep those `size` bytes alive and unchanged until
 *  nin_model_free has been called AND every context made from the model has been freed
 *  (contexts keep the model alive); unaligned data is copied once. */
nin_status nin_model_load_memory(const void *data, size_t size, nin_model **out_model);

/** Releases the caller's reference. Contexts made from the model keep it alive until they
 *  are freed. NULL is ignored; a handle already freed is detected and ignored. */
void nin_model_free(nin_model *model);

/** The model's input tensor shape (channels 1 or 3, height, width). Any out-pointer may be NULL. */
nin_status nin_model_input_shape(const nin_model *model, int *channels, int *height, int *width);

/** Number of classes (length of the logits). 0 if `model` is NULL or freed. */
int nin_model_class_count(const nin_model *model);

/** Label of class `index` as NUL-terminated UTF-8 owned by the model (valid until it is
 *  freed); NULL if `model` is invalid or `index` is out of range. */
const char *nin_model_label(const nin_model *model, int index);

/** Value of metadata `key` ("name", "dataset", "accuracy_int8", ...) owned by the model, or
 *  NULL if the key is absent or an argument is invalid. */
const char *nin_model_metadata(const nin_model *model, const char *key);

/** Shape of the final confidence maps (the last block's output before global average
 *  pooling): classes x height x width. Any out-pointer may be NULL. */
nin_status nin_model_map_shape(const nin_model *model, int *classes, int *height, int *width);

/** The kernel family the model's contexts run, chosen when it was loaded: one of the names of
 *  nin_kernel_family_name(), e.g. "avx2", "portable" (plain vectorized code, any CPU) or
 *  "generic" (the scalar reference kernels). It is the best family the CPU has, unless the
 *  NIN_ISA environment variable named another one at load time (a family the CPU lacks falls
 *  back to the best one below it, and the first such load says why on stderr). Every family
 *  gives the same bits. Static storage; NULL for an invalid model. */
const char *nin_model_kernels(const nin_model *model);

/** Where the model's weights live, for memory accounting. `*packed_bytes`: what its kernel
 *  family allocated at load (weights repacked into the family's layout, biases with terms
 *  folded in, requantization tables). `*weights_in_place`: bytes of the model image the family
 *  reads as weights where they lie (for a file, pages of its read-only mapping, which every
 *  process mapping the same file shares). The generic and cortexm families read the stored
 *  weights in place; the quad kernels (avx512vnni, avxvnni, avx2's vpmaddubsw path, neon,
 *  neondot, wasmrelaxed) read a file's quad weights in place when it carries them (format 1.2,
 *  `nin-convert --quad-weights`, docs/FORMAT.md) and repack otherwise; i8mm (its own
 *  channel-pair layout), AMX and the int16 kernels always repack. Either pointer may
 *  be NULL. */
nin_status nin_model_weight_memory(const nin_model *model, size_t *packed_bytes, size_t *weights_in_place);

/* ---- Kernel families -------------------------------------------------------------------- */
/* The kernel families this build has, indexed 0 .. nin_kernel_family_count() - 1 in the order a
 * model load prefers them: the best first, "portable" and "generic" (the scalar reference
 * kernels, every CPU) last. A load takes the first one this CPU runs, unless NIN_ISA names
 * another. The same list as `nin-infer --list-kernels` and Python's nin.kernel_families(). */

/** How many kernel families this build has (at least 2: "portable" and "generic"). */
int nin_kernel_family_count(void);

/** The name of family `index` (its NIN_ISA value, as nin_model_kernels() gives it), in static
 *  storage; NULL if `index` is out of range. */
const char *nin_kernel_family_name(int index);

/** 1 if this CPU (and OS) runs family `index`, 0 if not, -1 if `index` is out of range. */
int nin_kernel_family_supported(int index);

/** Why this CPU or OS cannot run family `index`, e.g. "CPU lacks avx512f/avx512bw/avx512vl/avx512_vnni"
 *  or the kernel's refusal of AMX's tile state, in static storage; NULL for a family it runs
 *  and for an out-of-range `index`. */
const char *nin_kernel_family_unavailable_reason(int index);

/** The CPU flags family `index` needs, space-separated as Linux's /proc/cpuinfo names them
 *  (e.g. "avx2 fma"), what its probe checks; "" for a family every CPU of the build's
 *  architecture runs ("portable", "generic"). Static storage; NULL for an out-of-range `index`. */
const char *nin_kernel_family_cpu_flags(int index);

/* ---- Contexts --------------------------------------------------------------------------- */

/** An inference stream: the arena, the worker threads, the results of the last run. */
typedef struct nin_context nin_context;

/** How to make a context. Always start from nin_context_default_params(). */
typedef struct nin_context_params {
    int threads;        /**< threads a run uses, 1 to NIN_MAX_THREADS (default 1): the caller's
                             plus threads - 1 workers made with the context; results are identical
                             for any count. One image splits each layer across them; a batch
                             gives each thread whole images. */
    int batch_size;     /**< most images per run, 1 to NIN_MAX_BATCH (default 1); the arena grows
                             with it (by the input, maps and results only when threads > 1) */
    void *arena;        /**< optional caller-owned memory for all tensors, or NULL (default) to let
                             the context allocate it; must be 64-byte aligned and stay valid until
                             nin_context_free */
    size_t arena_bytes; /**< size of `arena`; at least nin_model_arena_bytes() for these params */
} nin_context_params;

/** Most threads a context may use (nin_context_params.threads). */
#define NIN_MAX_THREADS 256
/** Most images one run may take (nin_context_params.batch_size). */
#define NIN_MAX_BATCH 65536

/** threads = 1, batch_size = 1, arena = NULL, arena_bytes = 0. */
nin_context_params nin_context_default_params(void);

/** Bytes of arena a context made with `params` (threads, batch_size) needs; the same number
 *  the context allocates itself. `params` NULL means the defaults. 0 on invalid arguments. */
size_t nin_model_arena_bytes(const nin_model *model, const nin_context_params *params);

/** Creates a context: plans every tensor into one arena, allocates it (unless given) and
 *  starts params->threads - 1 worker threads. `params` NULL means the defaults. The context
 *  keeps `model` alive. An arena it allocates is committed now (Linux: its pages are mapped
 *  at once), so no run, the first included, takes a page fault in it. */
nin_status nin_context_create(const nin_model *model, const nin_context_params *params,
                              nin_context **out_context);

/** Stops the workers and releases the context (and its arena unless caller-owned). NULL is
 *  ignored; a handle already freed is detected and ignored. */
void nin_context_free(nin_context *context);

/* ---- Images ----------------------------------------------------------------------------- */

/** Interleaved 8-bit pixels: row y, column x, channel c at pixels[y*stride + x*channels + c]. */
typedef struct nin_image {
    uint8_t *pixels;    /**< first pixel; owned by whoever made the image */
    int width;          /**< >= 1 */
    int height;         /**< >= 1 */
    int channels;       /**< 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    size_t stride;      /**< bytes between rows; 0 means width * channels */
} nin_image;

/** Decodes a PNG file (any color type and bit depth, interlaced or not) into 8-bit pixels with
 *  the file's channels (gray, gray+alpha, RGB or RGBA; palettes expand to RGB/RGBA, a tRNS
 *  chunk adds alpha). The pixels are the stored samples, as Pillow reads them: no gamma or
 *  color-profile conversion; 16-bit samples round to the nearest 8-bit value and lower bit
 *  depths scale to 8 bits (docs/PREPROCESSING.md). Images over 16384 pixels on a side or
 *  64 Mi pixels are refused before any pixel buffer is allocated. A file that cannot be opened
 *  gives NIN_ERROR_IO; a corrupt, truncated or oversized one NIN_ERROR_BAD_IMAGE. Release with
 *  nin_image_free. */
nin_status nin_image_load_png(const char *path, nin_image *out_image);

/** As nin_image_load_png, from the `size` bytes of a PNG file at `data` (the caller keeps
 *  them; they are not retained after the call). NULL `data` or `out_image`, or `size` 0, gives
 *  NIN_ERROR_INVALID_ARGUMENT; data that is not a whole valid PNG, or too large an image,
 *  NIN_ERROR_BAD_IMAGE. Release with nin_image_free. */
nin_status nin_image_load_png_memory(const void *data, size_t size, nin_image *out_image);

/** Releases pixels made by nin_image_load_png or nin_image_load_png_memory and zeroes the
 *  struct. NULL is ignored. */
void nin_image_free(nin_image *image);

/* ---- Running ---------------------------------------------------------------------------- */

/* Every run replaces the results of the previous one. A run that fails (bad arguments, NaN
 * input, ...) leaves no results: the getters return NIN_ERROR_STATE until a run succeeds.
 * Results are the same bits whatever floating-point rounding mode the caller has set: a run
 * rounds to nearest for its own arithmetic and gives the caller's mode back when it returns. */

/** Classifies `count` images (1 <= count <= batch_size) of any size and channel count: each is
 *  converted to the model's channels and resized to its input exactly as docs/PREPROCESSING.md
 *  says, then run. Results of image i are read with the nin_context_* getters below. */
nin_status nin_run_images(nin_context *context, const nin_image *images, int count);

/** Runs already-prepared input: `count` images as uint8 in the model's input layout
 *  (H x W x C, channels innermost), `bytes` == count * C * H * W. */
nin_status nin_run_prepared_u8(nin_context *context, const uint8_t *input, size_t bytes, int count);

/** Runs already-prepared float input in PyTorch's layout (N x C x H x W, values meant in
 *  [0, 1]); quantized as q = clamp(floor(x * 255 + 0.5), 0, 255). `values` == count * C * H * W.
 *  NaN is refused. */
nin_status nin_run_prepared_f32(nin_context *context, const float *input, size_t values, int count);

/** Copies the logits (dequantized global-average-pool outputs, bit-exact) of image `index` of
 *  the last run into out[0 .. classes-1]; `capacity` >= nin_model_class_count(). */
nin_status nin_context_logits(const nin_context *context, int index, float *out, size_t capacity);

/** As nin_context_logits, but softmax probabilities (float32; they sum to 1 within rounding). */
nin_status nin_context_probabilities(const nin_context *context, int index, float *out, size_t capacity);

/** The `k` most probable classes of image `index`, best first (ties: lower class index first),
 *  with their probabilities. `probabilities` may be NULL. 1 <= k <= classes. */
nin_status nin_context_top_k(const nin_context *context, int index, int k, int *classes,
                             float *probabilities);

/** Copies the dequantized confidence maps of image `index` (see nin_model_map_shape), in
 *  classes x height x width order, into out; `capacity` in floats. */
nin_status nin_context_confidence_maps(const nin_context *context, int index, float *out,
                                       size_t capacity);

/** Number of images in the last successful run (0 before any). */
int nin_context_result_count(const nin_context *context);

/* ---- Heatmaps --------------------------------------------------------------------------- */

/** Renders the class heatmap of image `index` of the last run: `image` (the image that was run
 *  as image `index`, any size and channel count) prepared as docs/PREPROCESSING.md says, in
 *  gray, at an integer multiple of the model's input size (at least 256 pixels on the short
 *  side), overlaid with the confidence map of class `class_index` (or of the most probable
 *  class when class_index < 0), upsampled bilinearly and normalized to its own range, in the
 *  viridis colormap at 60% opacity, under a 17-pixel black strip with the class's label and
 *  probability. *out_image gets 3-channel RGB pixels owned by the library; release them with
 *  nin_image_free. The same pixels as `nin-infer --heatmap` and Python's Model.heatmap. */
nin_status nin_context_heatmap(const nin_context *context, int index, int class_index,
                               const nin_image *image, nin_image *out_image);

#ifdef __cplusplus
}
#endif

#endif /* NIN_H */
