// The i8mm family's arrangement of a chunk's rows (`MatrixTilesI8MM.arrange`, run by the quad
// driver once per chunk, before the tiles of all its channel blocks): each 4 x 16 tile's two
// pixel pairs with their rows side by side, octet by octet, so that a pair's next octet is one
// 16-byte vector, the first operand of a `usmmla` as it is (the tiles of every block then load
// it instead of zipping two pixels' rows). The pair of pixels p and p + 1 keeps their `2 x
// kPadded` bytes from `kPadded x p` on: octet j's 16 bytes at `16 x j` (pixel p's 8 K values,
// then pixel p + 1's); where K has an odd number of quads, its last quad's 8 bytes after the
// octets (pixel p's 4, then pixel p + 1's). The pixels after the chunk's last whole tile keep
// their rows as they are (the one-pixel tile reads them).

import _Builtin_intrinsics.arm.neon

/// Writes the rows of `pixels` pixels (`kPadded` bytes each, at `rows`) into `arranged`: the pairs
/// of each whole tile of `tilePixels` side by side (`arrangePairI8MM`), the rest as they are.
@inline(__always)
func arrangeRowsI8MM(_ rows: UnsafePointer<UInt8>, pixels: Int, kPadded: Int, tilePixels: Int,
                     into arranged: UnsafeMutablePointer<UInt8>) {
    let paired = pixels / tilePixels &* tilePixels
    var p = 0
    while p < paired {
        arrangePairI8MM(rows + p &* kPadded, rows + (p &+ 1) &* kPadded, kPadded: kPadded, to: arranged + p &* kPadded)
        p &+= 2
    }
    if paired < pixels {
        UnsafeMutableRawPointer(arranged + paired &* kPadded).copyMemory(from: rows + paired &* kPadded,
                                                                         byteCount: (pixels &- paired) &* kPadded)
    }
}

/// Writes two pixels' rows of `kPadded` bytes (at `a` and `b`) side by side, octet by octet, at
/// `to` (`2 x kPadded` bytes: the layout above).
@inline(__always)
func arrangePairI8MM(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, kPadded: Int, to: UnsafeMutablePointer<UInt8>) {
    var a = UnsafeRawPointer(a), b = UnsafeRawPointer(b), to = UnsafeMutableRawPointer(to)
    if kPadded >= 16 {  // two octets of each pixel a step, until the first row's pointer reaches its end
        let aEnd = a + (kPadded & ~15)
        repeat {
            let u = a.loadUnaligned(as: SIMD2<UInt64>.self), v = b.loadUnaligned(as: SIMD2<UInt64>.self)
            to.storeBytes(of: vzip1q_u64(u, v), as: SIMD2<UInt64>.self)
            to.storeBytes(of: vzip2q_u64(u, v), toByteOffset: 16, as: SIMD2<UInt64>.self)
            a += 16; b += 16; to += 32
        } while a != aEnd
    }
    if kPadded & 8 != 0 {  // one octet
        to.storeBytes(of: a.loadUnaligned(as: UInt64.self), as: UInt64.self)
        to.storeBytes(of: b.loadUnaligned(as: UInt64.self), toByteOffset: 8, as: UInt64.self)
        a += 8; b += 8; to += 16
    }
    if kPadded & 4 != 0 {  // K's last quad of an odd number
        to.storeBytes(of: a.loadUnaligned(as: UInt32.self), as: UInt32.self)
        to.storeBytes(of: b.loadUnaligned(as: UInt32.self), toByteOffset: 4, as: UInt32.self)
    }
}
