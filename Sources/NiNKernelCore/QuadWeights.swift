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
/// output channel whose lane holds it (a padding channel's index when past the last). A quick
/// pass over whole quads (a load pair and a compare per word: the check of a model's weights at
/// load costs what packing them did), then, only when that finds a difference or for the last
/// partial quads and the padding channels, the word-by-word search.
public func firstQuadMismatch(ohwi: UnsafePointer<Int8>, quads: UnsafeRawPointer, outChannels: Int,
                              kernelSize k: Int) -> (byte: Int, channel: Int)? {
    let kQuads = (k + 3) / 4, wholeQuads = k / 4
    var firstChannel = 0  // where the search starts: the first lane that may differ
    quick: while firstChannel < outChannels {
        var source = UnsafeRawPointer(ohwi + firstChannel &* k)
        var stored = quads + ((firstChannel / 16) &* kQuads &* 64 &+ (firstChannel % 16) &* 4)
        for _ in 0..<wholeQuads {
            if source.loadUnaligned(as: UInt32.self) != stored.loadUnaligned(as: UInt32.self) { break quick }
            source += 4
            stored += 64
        }
        firstChannel &+= 1
    }
    for o in 0..<((outChannels + 15) / 16 * 16) {
        let laneOffset = (o / 16) * kQuads * 64 + (o % 16) * 4
        let row = UnsafeRawPointer(ohwi + o * k)
        // (the lanes the quick pass found equal: only their partial quad)
        for q in (o < firstChannel ? wholeQuads : 0)..<kQuads {
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
