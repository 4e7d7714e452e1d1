/* CLibPNG: libpng's headers and library (pkg-config libpng) for the C target NiNPNGRead. */
#include <png.h>
