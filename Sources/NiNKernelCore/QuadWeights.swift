// The quad-blocked weight layout that every quad family multiplies (`[block][kQuads][16][4]`:
// per block of 16 output channels, per quad of 4 consecutive K values, the 16 channels' quads
// side by side; zeros past K and past the last channel). Owned here because two parties make
// or read it: `packQuads` writes it at load, and a model file may carry it ready made (format
// 1.2's quad weights, docs/FORMAT.md), which the reader compares with the OHWI weights and
// the quad families then read in place.

/// Bytes of the quad-blocked weights of `outChannels` channels of K = `kernelSize`, with
/// `blockQuads` quads per block (K's quads unless a family pads further, as AMX does).
@inlinable
public func quadWeightsBytes(outChannels: Int, kernelSize: Int, blockQuads: Int? = nil) -> Int {
    (outChannels + 15) / 16 * max(blockQuads ?? 0, (kernelSize + 3) / 4) * 64
}

/// Writes OHWI weights (`outChannels` rows of `kernelSize` bytes) into zeroed storage in the
/// quad-blocked layout with `blockQuads` quads per block. Whole quads move as 4-byte words (a
/// channel's quad is 4 consecutive bytes of its row and of its lane): model loading spends
/// most of its time here and in the checksum, so the loop stays word-wise.
@inlinable
public func writeQuadWeights(_ ohwi: UnsafePointer<Int8>, outChannels: Int, kernelSize k: Int, blockQuads: Int,
                             to quads: UnsafeMutableRawPointer) {
    let wholeQuads = k / 4
    for o in 0..<outChannels {
        let row = UnsafeRawPointer(ohwi + o * k)
        let lane = quads + (o / 16) * blockQuads * 64 + (o % 16) * 4
        for q in 0..<wholeQuads {
            lane.storeBytes(of: row.loadUnaligned(fromByteOffset: 4 * q, as: UInt32.self), toByteOffset: 64 * q, as: UInt32.self)
        }
        for kk in (4 * wholeQuads)..<k {
            lane.storeBytes(of: row.load(fromByteOffset: kk, as: Int8.self), toByteOffset: 64 * wholeQuads + (kk & 3), as: Int8.self)
        }
    }
}

/// Where a quad-blocked array (K's quads per block) first differs from OHWI weights in that
/// layout, or nil when it equals them, zeros included: the byte's index in the array and the
/// output channel whose lane holds it (a padding channel's index when past the last). Word by
/// word, as `writeQuadWeights` moves them (one small loop: the Cortex-M firmware has it too).
public func firstQuadMismatch(ohwi: UnsafePointer<Int8>, quads: UnsafeRawPointer, outChannels: Int,
                              kernelSize k: Int) -> (byte: Int, channel: Int)? {
    let kQuads = (k + 3) / 4, wholeQuads = k / 4
    for o in 0..<((outChannels + 15) / 16 * 16) {
        let laneOffset = (o / 16) * kQuads * 64 + (o % 16) * 4
        let row = UnsafeRawPointer(ohwi + o * k)
        for q in 0..<kQuads {
            // Channel o's quad q as it must be stored: its row's 4 bytes, zero past K or past the channels.
            var expected: UInt32 = 0
            if o < outChannels {
                if q < wholeQuads {
                    expected = row.loadUnaligned(fromByteOffset: 4 * q, as: UInt32.self)
                } else {
                    for kk in (4 * q)..<k { expected |= UInt32(row.load(fromByteOffset: kk, as: UInt8.self)) << (8 * (kk & 3)) }
                }
            }
            let stored = quads.loadUnaligned(fromByteOffset: laneOffset + 64 * q, as: UInt32.self)
            if stored != expected { return (laneOffset + 64 * q + (stored ^ expected).trailingZeroBitCount / 8, o) }
        }
    }
    return nil
}
