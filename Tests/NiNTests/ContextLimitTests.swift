// The context's numeric limits at their edges (docs/SECURITY.md, "Limits"; the upper ones also
// against nin.h in ConstantsTests): threads 1-256, batch size 1-65536, and a run's image count
// 1 to the batch size. Each value at a limit passes; one past it is refused by name.

import NiN
import Testing

@Test("context limits: 1 thread and a batch of 1 pass; 0 and 257 threads, batches of 0 and 65537 are refused")
func contextLimitEdges() throws {
    #expect(throws: Never.self) { try NiNContext.checkLimits(threads: 1, batchSize: 1) }
    for (threads, batch, message) in [(0, 1, "threads is 0, expected 1 to 256"), (1, 0, "batch_size is 0, expected 1 to 65536"),
                                      (257, 1, "threads is 257, expected 1 to 256"),
                                      (1, 65537, "batch_size is 65537, expected 1 to 65536")] {
        do {
            try NiNContext.checkLimits(threads: threads, batchSize: batch)
            Issue.record("threads \(threads), batch \(batch) accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message == message)
        }
    }
}

@Test("a run takes 1 to the batch size images: 1 and 2 run on a batch of 2, 0 and 3 are refused")
func contextRunCountEdge() throws {
    let model = try NiNModel(bytes: tinyModel().sealed)  // input 1x6x6
    let context = try NiNContext(model: model, batchSize: 2)
    for count in [1, 2] {
        #expect(throws: Never.self) { try context.run(preparedInput: [UInt8](repeating: 9, count: 36 * count), count: count) }
    }
    for count in [0, 3] {
        do {
            try context.run(preparedInput: [UInt8](repeating: 9, count: 36 * count), count: count)
            Issue.record("a run of \(count) images accepted on a batch of 2")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message == "run of \(count) image(s): expected 1 to the context's batch size 2")
        }
    }
}
