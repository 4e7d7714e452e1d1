/* ninpriv_crc32.h - the model checksum's (CRC-32, the zlib/PNG polynomial) fast path: carry-less
 * multiplication folding (x86-64 PCLMULQDQ), 16 bytes per step instead of the table loop's one
 * to eight. Internal (ninpriv_ prefix: not exported). The table loop in Sources/NiN/Model/CRC32.swift
 * is the definition; it finishes what this leaves and is the whole path where this returns 0. */
#ifndef NINPRIV_CRC32_H
#define NINPRIV_CRC32_H

#include <stddef.h>
#include <stdint.h>

/** Advances the CRC-32 register `*state` (the running, inverted value: ~0 before the first byte)
 *  over the first N bytes of `data` and returns N: a multiple of 16, 0 when `length` < 64 or the
 *  CPU has no carry-less multiply (then `*state` is unchanged). The caller runs the table loop
 *  over the remaining `length - N` bytes. */
size_t ninpriv_crc32_fold(uint32_t *state, const uint8_t *data, size_t length);

#endif
