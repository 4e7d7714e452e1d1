// The Swift side of "one source for each constant": the engine's limits and error codes are
// checked against include/nin.h, which owns them (imported through the CNiN module).

import CNiN
import NiN
import Testing

@Test("NiNContext's thread and batch bounds are nin.h's NIN_MAX_THREADS and NIN_MAX_BATCH")
func contextLimitsMatchHeader() throws {
    #expect(NiNContext.maxThreads == Int(NIN_MAX_THREADS))
    #expect(NiNContext.maxBatchSize == Int(NIN_MAX_BATCH))
    #expect(throws: Never.self) { try NiNContext.checkLimits(threads: NiNContext.maxThreads, batchSize: NiNContext.maxBatchSize) }
    #expect(throws: NiNError.self) { try NiNContext.checkLimits(threads: NiNContext.maxThreads + 1, batchSize: 1) }
    #expect(throws: NiNError.self) { try NiNContext.checkLimits(threads: 1, batchSize: NiNContext.maxBatchSize + 1) }
}

@Test("NiNError codes are nin.h's nin_status values, and the version is NIN_VERSION_STRING")
func errorCodesMatchHeader() {
    let pairs: [(NiNError.Code, nin_status)] = [
        (.invalidArgument, NIN_ERROR_INVALID_ARGUMENT), (.io, NIN_ERROR_IO), (.badModel, NIN_ERROR_BAD_MODEL),
        (.badImage, NIN_ERROR_BAD_IMAGE), (.bufferTooSmall, NIN_ERROR_BUFFER_TOO_SMALL),
        (.outOfMemory, NIN_ERROR_OUT_OF_MEMORY), (.state, NIN_ERROR_STATE),
    ]
    for (code, status) in pairs { #expect(UInt32(code.rawValue) == status.rawValue, "\(code)") }
    #expect(String(cString: ninpriv_status_name(NIN_ERROR_IO)) == "NIN_ERROR_IO")
    #expect(String(cString: ninpriv_version_string()) == NIN_VERSION_STRING)
    #expect(NIN_VERSION_STRING == "\(NIN_VERSION_MAJOR).\(NIN_VERSION_MINOR).\(NIN_VERSION_PATCH)")
}

@Test("Window.outputSize is the formula of tools/nin_tools/model_format.py (its golden table)")
func outputSizeMatchesPython() throws {
    let table = try String(decoding: readBytes(repositoryRoot + "/Tests/golden/output_sizes.txt"), as: UTF8.self)
    var cases = 0, unfit = 0
    for line in table.split(separator: "\n") {
        let v = line.split(separator: " ").map { Int($0)! }
        let got = Window.outputSize(input: v[0], kernel: v[1], stride: v[2], padBefore: v[3], padAfter: v[4])
        #expect((got ?? -1) == v[5], "\(line)")
        cases += 1
        if v[5] == -1 { unfit += 1 }
    }
    #expect(cases == 1100 && unfit > 0)
}
