/* CLibPNG: exposes libpng's simplified API (png_image_*) to Swift. */
#include <png.h>
