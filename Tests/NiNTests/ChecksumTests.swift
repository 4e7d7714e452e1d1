// The model checksum (Sources/NiN/Model/CRC32.swift: the carry-less multiply fold of
// Sources/NiNCPU/crc32.c where the CPU has it, and the table loop) against NiNKernelCheck's
// bitwise CRC-32 (`testCRC32`), over every short length, lengths around the fold's 64- and
// 16-byte steps, at each misalignment, and continued across split points.

@testable import NiN
import NiNKernelCheck
import Testing

@Suite struct ChecksumTests {
    /// 5,000 bytes of a fixed pseudo-random sequence (xorshift).
    private let bytes: [UInt8] = {
        var state: UInt32 = 0x9E37_79B9
        return (0..<5000).map { _ in
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return UInt8(truncatingIfNeeded: state)
        }
    }()

    private func crc(_ range: Range<Int>, continuing previous: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[range]), continuing: previous) }
    }

    @Test func equalsTheBitwiseCRCAtEveryLengthAndOffset() {
        let lengths = Array(0...300) + [511, 512, 513, 1023, 1024, 1025, 4095, 4096, 4097, 4900]
        var mismatches: [String] = []
        for offset in 0..<17 {
            for length in lengths where offset + length <= bytes.count {
                let range = offset..<(offset + length)
                let got = crc(range), want = testCRC32(bytes[range])
                if got != want { mismatches.append("offset \(offset) length \(length): \(got) != \(want)") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test func continuesAcrossSplitPoints() {
        let whole = testCRC32(bytes[0..<4000])
        for split in [0, 1, 15, 16, 63, 64, 65, 1000, 3999, 4000] {
            #expect(crc(split..<4000, continuing: crc(0..<split)) == whole, "split at \(split)")
        }
    }
}
