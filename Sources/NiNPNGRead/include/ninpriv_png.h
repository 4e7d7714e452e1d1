/* ninpriv_png.h - reads PNG samples with libpng's regular API (internal; the ninpriv_ prefix
 * keeps it out of libnin.so's nin_* export list). libpng reports errors with longjmp, which
 * Swift cannot catch, so every libpng call lives in ninpriv_png.c behind a setjmp; each
 * function here returns 1 on success or 0 with a one-line reason in ninpriv_png_message().
 *
 * The samples are the stored ones: no gamma, color-space or sBIT correction, no compositing.
 * Palettes expand to RGB, gray below 8 bits scales to 8 bits (bit replication: v * 255 /
 * (2^depth - 1)), a tRNS chunk becomes an alpha channel (0 where the pixel matches the tRNS
 * entry, else 255; palette entries take their tRNS alpha), and Adam7 interlacing is undone.
 * 16-bit samples stay 16-bit (big-endian); the caller rounds them to 8 bits.
 *
 * Use: ninpriv_png_create, ninpriv_png_begin_file or ninpriv_png_begin_memory (the header),
 * ninpriv_png_set_transforms (the output layout), ninpriv_png_read (the pixels),
 * ninpriv_png_destroy (always, also after a failure). */
#ifndef NINPRIV_PNG_H
#define NINPRIV_PNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** One PNG being read: libpng's state, the input and the last error message. */
typedef struct ninpriv_png_reader ninpriv_png_reader;

/** The output layout after the transforms. */
typedef struct ninpriv_png_layout {
    int channels;      /**< 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA */
    int bit_depth;     /**< 8, or 16 (big-endian samples) */
    size_t row_bytes;  /**< width * channels * bit_depth / 8 */
} ninpriv_png_layout;

/** A new reader, or NULL when out of memory. */
ninpriv_png_reader *ninpriv_png_create(void);

/** Releases the reader and everything libpng allocated for it. NULL is ignored. */
void ninpriv_png_destroy(ninpriv_png_reader *reader);

/** Reads the signature and the chunks before the image data from an open file; sets the
 *  image's width and height. The file must stay open until ninpriv_png_read returns. */
int ninpriv_png_begin_file(ninpriv_png_reader *reader, FILE *file, uint32_t *width, uint32_t *height);

/** As ninpriv_png_begin_file, from `size` bytes at `data` (which must stay alive until
 *  ninpriv_png_read returns). */
int ninpriv_png_begin_memory(ninpriv_png_reader *reader, const void *data, size_t size,
                             uint32_t *width, uint32_t *height);

/** After begin: the bytes of stored samples the header declares (height x the stored row
 *  bytes, before any transform): what the compressed data must inflate to. */
size_t ninpriv_png_stored_bytes(const ninpriv_png_reader *reader);

/** The whole input's size in bytes (the file's size, or the memory's), 0 when unknown (a pipe). */
size_t ninpriv_png_input_bytes(const ninpriv_png_reader *reader);

/** Sets up the transforms of this header's comment and gives the output layout. */
int ninpriv_png_set_transforms(ninpriv_png_reader *reader, ninpriv_png_layout *layout);

/** Decodes every row into `pixels` (height * layout.row_bytes bytes, rows contiguous). */
int ninpriv_png_read(ninpriv_png_reader *reader, uint8_t *pixels);

/** The reason of the last failure (one line, never NULL). */
const char *ninpriv_png_message(const ninpriv_png_reader *reader);

#endif
