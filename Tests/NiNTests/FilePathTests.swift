// FilePath keeps a path's exact bytes (Linux paths are bytes, not text) and shows them in
// messages with every byte that is not valid UTF-8 escaped.

import NiN
import Testing

@Test("FilePath keeps every byte and escapes only invalid UTF-8 in its description")
func filePathBytes() {
    let odd: [UInt8] = Array("dir/bad".utf8) + [0xFF] + Array("byte-é.png".utf8) + [0xE2, 0x28]
    let path = FilePath(bytes: odd)
    #expect(path.bytes == odd)
    #expect(path.description == "dir/bad\\xffbyte-é.png\\xe2(")
    let fromC = odd.map { CChar(bitPattern: $0) } + [0]
    #expect(fromC.withUnsafeBufferPointer { FilePath(cString: $0.baseAddress!) } == path)
    #expect(path.withCString { pointer in (0...odd.count).map { UInt8(bitPattern: pointer[$0]) } } == odd + [0])
    #expect(FilePath("plain/ü.nin").bytes == Array("plain/ü.nin".utf8))
    #expect(FilePath(bytes: [0x61, 0x00, 0x62]).bytes == [0x61], "a NUL ends the path, as it does for the OS")
}
