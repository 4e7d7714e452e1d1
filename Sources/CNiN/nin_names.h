/* nin_names.h - the names nin.h defines, as C strings for the Swift implementation of the C API
 * (internal: not installed). The header owns the version and the status codes; this file
 * only spells them, beside the enum it mirrors, so the library never writes them again. */
#ifndef NIN_NAMES_H
#define NIN_NAMES_H

#include "../../include/nin.h"

/** NIN_VERSION_STRING, with static storage. */
static inline const char *ninpriv_version_string(void) { return NIN_VERSION_STRING; }

/** The constant's name of `status` ("NIN_ERROR_IO"); "unknown status" outside the enum. */
static inline const char *ninpriv_status_name(nin_status status) {
#define NINPRIV_NAME(s) case s: return #s;
    switch (status) {
        NINPRIV_NAME(NIN_OK)
        NINPRIV_NAME(NIN_ERROR_INVALID_ARGUMENT)
        NINPRIV_NAME(NIN_ERROR_IO)
        NINPRIV_NAME(NIN_ERROR_BAD_MODEL)
        NINPRIV_NAME(NIN_ERROR_BAD_IMAGE)
        NINPRIV_NAME(NIN_ERROR_BUFFER_TOO_SMALL)
        NINPRIV_NAME(NIN_ERROR_OUT_OF_MEMORY)
        NINPRIV_NAME(NIN_ERROR_STATE)
    }
#undef NINPRIV_NAME
    return "unknown status";
}

#endif
