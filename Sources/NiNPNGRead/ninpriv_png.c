/* ninpriv_png.c - libpng's regular read API behind setjmp (see include/ninpriv_png.h): errors
 * become a status and a one-line message instead of a longjmp through Swift frames. */
#include "ninpriv_png.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct ninpriv_png_reader {
    png_structp png;
    png_infop info;
    FILE *file;                  /* the input: a file ... */
    const unsigned char *data;   /* ... or memory */
    size_t size, offset;
    png_uint_32 height;
    size_t input_bytes;          /* the whole input's size (file size, or `size`), 0 if unknown */
    png_bytep *rows;             /* row pointers for png_read_image, freed by destroy */
    char message[256];
};

static void set_message(ninpriv_png_reader *reader, const char *message) {
    /* One line: control characters (a newline in a libpng message, if any) become spaces. */
    size_t n = 0;
    for (; message[n] != 0 && n + 1 < sizeof reader->message; n++) {
        unsigned char c = (unsigned char)message[n];
        reader->message[n] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    reader->message[n] = 0;
}

static void on_error(png_structp png, png_const_charp message) {
    set_message(png_get_error_ptr(png), message);
    png_longjmp(png, 1);
}

/* Warnings (a bad CRC in an ancillary chunk, which libpng then skips, an unknown profile, ...)
 * do not stop decoding; the samples are unaffected. */
static void on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void read_input(png_structp png, png_bytep out, size_t count) {
    ninpriv_png_reader *reader = png_get_io_ptr(png);
    if (reader->file != NULL) {
        size_t got = fread(out, 1, count, reader->file);
        if (got != count) png_error(png, ferror(reader->file) ? "read error" : "truncated (unexpected end of file)");
        return;
    }
    if (count > reader->size - reader->offset) png_error(png, "truncated (unexpected end of data)");
    memcpy(out, reader->data + reader->offset, count);
    reader->offset += count;
}

ninpriv_png_reader *ninpriv_png_create(void) {
    ninpriv_png_reader *reader = calloc(1, sizeof *reader);
    if (reader == NULL) return NULL;
    reader->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, reader, on_error, on_warning);
    if (reader->png != NULL) reader->info = png_create_info_struct(reader->png);
    if (reader->info == NULL) {
        ninpriv_png_destroy(reader);
        return NULL;
    }
    set_message(reader, "no error");
    return reader;
}

void ninpriv_png_destroy(ninpriv_png_reader *reader) {
    if (reader == NULL) return;
    if (reader->png != NULL) png_destroy_read_struct(&reader->png, reader->info != NULL ? &reader->info : NULL, NULL);
    free(reader->rows);
    free(reader);
}

static int begin(ninpriv_png_reader *reader, uint32_t *width, uint32_t *height) {
    png_structp png = reader->png;
    png_infop info = reader->info;
    if (setjmp(png_jmpbuf(png))) return 0;
    png_set_read_fn(png, reader, read_input);
    png_read_info(png, info);
    reader->height = png_get_image_height(png, info);
    *width = png_get_image_width(png, info);
    *height = reader->height;
    return 1;
}

int ninpriv_png_begin_file(ninpriv_png_reader *reader, FILE *file, uint32_t *width, uint32_t *height) {
    reader->file = file;
    struct stat status;
    if (fstat(fileno(file), &status) == 0 && S_ISREG(status.st_mode)) reader->input_bytes = (size_t)status.st_size;
    return begin(reader, width, height);
}

int ninpriv_png_begin_memory(ninpriv_png_reader *reader, const void *data, size_t size,
                             uint32_t *width, uint32_t *height) {
    reader->data = data;
    reader->size = size;
    reader->offset = 0;
    reader->input_bytes = size;
    return begin(reader, width, height);
}

size_t ninpriv_png_stored_bytes(const ninpriv_png_reader *reader) {
    return (size_t)reader->height * png_get_rowbytes(reader->png, reader->info);
}

size_t ninpriv_png_input_bytes(const ninpriv_png_reader *reader) { return reader->input_bytes; }

int ninpriv_png_set_transforms(ninpriv_png_reader *reader, ninpriv_png_layout *layout) {
    png_structp png = reader->png;
    png_infop info = reader->info;
    if (setjmp(png_jmpbuf(png))) return 0;
    /* Palette -> RGB, gray 1/2/4 -> 8 bits, tRNS -> alpha. No png_set_gamma, png_set_shift
     * (sBIT) or png_set_background: the stored samples, as Pillow, torchvision and OpenCV read them. */
    png_set_expand(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    layout->channels = png_get_channels(png, info);
    layout->bit_depth = png_get_bit_depth(png, info);
    layout->row_bytes = png_get_rowbytes(png, info);
    return 1;
}

int ninpriv_png_read(ninpriv_png_reader *reader, uint8_t *pixels) {
    png_structp png = reader->png;
    if (reader->rows == NULL) {
        reader->rows = malloc((size_t)reader->height * sizeof *reader->rows);
        if (reader->rows == NULL) {
            set_message(reader, "out of memory for the row pointers");
            return 0;
        }
    }
    size_t row_bytes = png_get_rowbytes(png, reader->info);
    for (png_uint_32 y = 0; y < reader->height; y++) reader->rows[y] = pixels + (size_t)y * row_bytes;
    if (setjmp(png_jmpbuf(png))) return 0;
    png_read_image(png, reader->rows);
    return 1;
}

const char *ninpriv_png_message(const ninpriv_png_reader *reader) {
    return reader->message;
}
