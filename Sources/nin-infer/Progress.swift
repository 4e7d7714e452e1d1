// The progress line nin-infer keeps on stderr while it works ("1200/10000 images, 512.3
// images/s, ETA 17 s", redrawn at most 5 times a second) and the summary it leaves there at
// the end. Both are shown when stderr is a terminal, or with --progress.

import CNiNPlatform  // the C library, as the platform layer imports it (hosted and Embedded)
import NiNPlatform

/// Progress of one nin-infer run; silent when not `enabled`.
struct Progress {
    let enabled: Bool
    let total: Int
    private(set) var done = 0
    private(set) var failed = 0
    private let start = secondsNow()
    private var lastDrawn = -1.0

    init(enabled: Bool, total: Int) {
        self.enabled = enabled
        self.total = total
    }

    /// Counts `images` more images done, `failures` of them failed, and redraws if due.
    mutating func advance(by images: Int, failures: Int) {
        done += images
        failed += failures
        guard enabled else { return }
        let now = secondsNow()
        guard now - lastDrawn >= 0.2 || done == total else { return }
        lastDrawn = now
        let elapsed = now - start
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Int((Double(total - done) / rate).rounded(.up)) : 0
        fputs("\r\(done)/\(total) images, \(oneDecimal(rate)) images/s, ETA \(eta) s\u{1B}[K", ninpriv_stderr())
    }

    /// Replaces the progress line with the summary: images, failures, time and images/s.
    func finish() {
        guard enabled else { return }
        let elapsed = secondsNow() - start
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        fputs("\r\u{1B}[Knin-infer: \(done) images, \(failed) failed, \(oneDecimal(elapsed)) s, \(oneDecimal(rate)) images/s\n", ninpriv_stderr())
    }
}

/// Seconds on the monotonic clock.
func secondsNow() -> Double {
    Double(Platform.monotonicNanoseconds()) / 1e9
}

/// `x` with one decimal, without Foundation.
func oneDecimal(_ x: Double) -> String {
    let tenths = Int((x * 10).rounded())
    return "\(tenths / 10).\(abs(tenths % 10))"
}
