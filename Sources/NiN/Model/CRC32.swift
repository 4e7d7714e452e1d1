// CRC-32 (IEEE 802.3, reflected, as zlib's crc32): the .nin checksum. Where the CPU has a
// carry-less multiply (x86-64 PCLMULQDQ), Sources/NiNCPU/crc32.c folds the bulk 64 bytes per step,
// then 16 (0.1 instructions a byte); this table loop is the definition and does the rest, or all of it
// elsewhere: slicing by 8, eight bytes per step through eight 256-entry tables.

import NiNCPU

/// CRC-32 of `bytes` continuing from the CRC `previous` of the bytes before them, identical to
/// zlib's `crc32(previous, bytes, count)` (0: the CRC of `bytes` alone).
func crc32(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
    var crc = previous ^ 0xFFFF_FFFF
    guard let base = bytes.baseAddress else { return previous }
    let folded = ninpriv_crc32_fold(&crc, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    return crc32Tables.withUnsafeBufferPointer { t in
        var p = base + folded, left = bytes.count - folded
        while left >= 8 {
            let lo = p.loadUnaligned(as: UInt32.self).littleEndian ^ crc
            let hi = (p + 4).loadUnaligned(as: UInt32.self).littleEndian
            crc = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
            p += 8
            left -= 8
        }
        while left > 0 {
            crc = t[Int((crc ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
            p += 1
            left -= 1
        }
        return crc ^ 0xFFFF_FFFF
    }
}

/// Table s, entry n: the CRC of byte n followed by s zero bytes (table 0 is the bytewise one).
private let crc32Tables: [UInt32] = {
    var t = [UInt32](repeating: 0, count: 8 * 256)
    for n in 0..<256 {
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1) }
        t[n] = c
    }
    for s in 1..<8 {
        for n in 0..<256 { t[s * 256 + n] = (t[(s - 1) * 256 + n] >> 8) ^ t[Int(t[(s - 1) * 256 + n] & 0xFF)] }
    }
    return t
}()
