// WorkerPool's ownership rule: a worker never holds a reference to the job it runs or to its
// pool, so the caller of `run` always drops the last one. A worker that held one past its part
// could drop the last reference itself and run the job's deinit, or the pool's: for a context,
// its pool's deinit, which then joined that worker from itself and left it running, unjoined,
// on the freed pool (ThreadSanitizer reported it as a thread leak). Also how parts are claimed.

import NiN
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A job that records its own strong reference count and its pool's from inside the part it
/// runs: on the calling thread in a one-part run, and on the worker in a two-part run (the
/// caller's part waits until the worker has run the other one). The two differ by the
/// references the worker took.
private final class RetainCountJob: ParallelJob, @unchecked Sendable {
    let caller = pthread_self()
    unowned(unsafe) var pool: WorkerPool<RetainCountJob>? = nil
    var countOnCaller: UInt = 0, poolCountOnCaller: UInt = 0
    var countOnWorker: UInt = 0, poolCountOnWorker: UInt = 0
    let workerRan = Atomic<Bool>(false)

    func runPart(_ part: Int, of parts: Int, thread: Int) {
        if pthread_equal(pthread_self(), caller) == 0 {
            countOnWorker = _getRetainCount(self)
            poolCountOnWorker = _getRetainCount(pool!)
            workerRan.store(true, ordering: .releasing)
        } else if parts == 1 {
            countOnCaller = _getRetainCount(self)
            poolCountOnCaller = _getRetainCount(pool!)
        } else {
            // Leave the other part to the worker (parts are claimed by whoever comes first).
            let start = monotonicTestNanoseconds()
            while !workerRan.load(ordering: .acquiring) && monotonicTestNanoseconds() - start < 2_000_000_000 {}
        }
    }
}

@Test("a worker takes no reference to the job it runs, nor to its pool")
func workerPoolRetainsNoJob() throws {
    let pool = try WorkerPool<RetainCountJob>(threadCount: 2)
    let job = RetainCountJob()
    job.pool = pool
    pool.run(job, parts: 1)  // the caller's references only
    for round in 0..<20 {
        job.workerRan.store(false, ordering: .relaxed)
        pool.run(job, parts: 2)  // the worker's part ends before `run` returns
        let workerRan = job.workerRan.load(ordering: .acquiring)
        #expect(workerRan, "round \(round): no part ran on the worker")
        #expect(job.countOnWorker == job.countOnCaller,
                "round \(round): the worker holds \(Int(job.countOnWorker) - Int(job.countOnCaller)) reference(s) to its job")
        // (a worker holding its pool could run the pool's deinit, which joins that worker)
        #expect(job.poolCountOnWorker == job.poolCountOnCaller,
                "round \(round): the worker holds \(Int(job.poolCountOnWorker) - Int(job.poolCountOnCaller)) reference(s) to its pool")
    }
}

/// A job that counts, per part, the times it ran and the times it ran on the calling thread,
/// and checks that no pool thread runs two parts at once (its scratch and lane are per thread).
private final class PartCountingJob: ParallelJob, @unchecked Sendable {
    let caller = pthread_self()
    let runs = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    let onCaller = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    let busy0 = Atomic<Int>(0), busy1 = Atomic<Int>(0), busy2 = Atomic<Int>(0), busy3 = Atomic<Int>(0)
    let overlaps = Atomic<Int>(0), badThreads = Atomic<Int>(0), badCounts = Atomic<Int>(0)
    /// The part count of the run in progress (set before `run`, which publishes it).
    var parts = 0

    init() {
        runs.initialize(repeating: 0, count: 64)
        onCaller.initialize(repeating: 0, count: 64)
    }

    deinit {
        runs.deallocate()
        onCaller.deallocate()
    }

    func runPart(_ part: Int, of parts: Int, thread: Int) {
        let isCaller = pthread_equal(pthread_self(), caller) != 0
        if isCaller != (thread == 0) || !(0..<4).contains(thread) { badThreads.add(1, ordering: .relaxed) }
        func exchange(_ value: Int) -> Int {
            switch thread {
            case 0: busy0.exchange(value, ordering: .acquiringAndReleasing)
            case 1: busy1.exchange(value, ordering: .acquiringAndReleasing)
            case 2: busy2.exchange(value, ordering: .acquiringAndReleasing)
            default: busy3.exchange(value, ordering: .acquiringAndReleasing)
            }
        }
        if exchange(1) != 0 { overlaps.add(1, ordering: .relaxed) }
        if parts != self.parts { badCounts.add(1, ordering: .relaxed) }
        runs[part] += 1
        if isCaller { onCaller[part] += 1 }
        _ = exchange(0)
    }
}

@Test("every part of every run runs exactly once, whichever thread claims it, one part at a time per thread")
func workerPoolRunsEachPartOnce() throws {
    let counts = [1, 2, 3, 4, 6, 9, 17]
    for threads in 1...4 {
        let pool = try WorkerPool<PartCountingJob>(threadCount: threads)
        let job = PartCountingJob()
        var expected = [Int](repeating: 0, count: 64)
        // The part count changes from run to run, as from layer to layer: a worker that saw an
        // earlier run must never claim parts of a later one.
        for run in 0..<2000 {
            job.parts = counts[(run * 5 + run / 7) % counts.count]
            pool.run(job, parts: job.parts)
            for part in 0..<job.parts { expected[part] += 1 }
        }
        #expect((0..<64).map { job.runs[$0] } == expected, "\(threads) threads: parts ran other than once per run")
        let overlaps = job.overlaps.load(ordering: .relaxed), badThreads = job.badThreads.load(ordering: .relaxed)
        let badCounts = job.badCounts.load(ordering: .relaxed)
        #expect(overlaps == 0, "\(threads) threads: a thread ran two parts at once")
        #expect(badThreads == 0, "\(threads) threads: a part ran with a thread index not its thread's")
        #expect(badCounts == 0, "\(threads) threads: a part ran with another run's part count")
    }
}

@Test("a worker slow to wake delays nothing: the calling thread runs the parts it has not claimed")
func workerPoolCallerTakesUnclaimedParts() throws {
    // Between runs the worker goes to sleep on its condition variable (its spin lasts well under
    // 20 ms); waking it takes microseconds, while the caller's empty parts take nanoseconds. With
    // parts assigned to threads, part 1 waited for the worker every time; a worker descheduled
    // by a busy core then held each layer for a scheduler time slice.
    let pool = try WorkerPool<PartCountingJob>(threadCount: 2)
    let job = PartCountingJob()
    let rounds = 20
    for _ in 0..<rounds {
        usleep(20_000)
        pool.run(job, parts: 2)
    }
    #expect(job.runs[0] == rounds && job.runs[1] == rounds)
    #expect(job.onCaller[1] > 0, "part 1 ran on the worker in all \(rounds) runs: the caller waited for it to wake")
}

/// A job whose parts do nothing and whose deinit counts the times it ran on another thread than
/// the one that made it.
private final class DeinitThreadJob: ParallelJob {
    let maker = pthread_self()
    let elsewhere: UnsafeMutablePointer<Int>

    init(counting elsewhere: UnsafeMutablePointer<Int>) { self.elsewhere = elsewhere }

    func runPart(_ part: Int, of parts: Int, thread: Int) {}

    deinit {
        if pthread_equal(pthread_self(), maker) == 0 { elsewhere.pointee += 1 }
    }
}

@Test("the caller of run releases the job, never a worker")
func workerPoolCallerReleasesJob() throws {
    // The race the rule above prevents, run as it happens: the caller drops its reference as
    // soon as `run` returns. With a worker keeping its own reference until after it reported
    // its part done, 1 or 2 of 1,000-2,000 rounds ran the deinit on the worker in 2 of 8 runs
    // here; the test above is the check that fails every time.
    let elsewhere = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    defer { elsewhere.deallocate() }
    elsewhere.pointee = 0
    let rounds = 1000
    for _ in 0..<rounds {
        let pool = try WorkerPool<DeinitThreadJob>(threadCount: 2)
        var job: DeinitThreadJob? = DeinitThreadJob(counting: elsewhere)
        pool.run(job!, parts: 2)
        job = nil
        withExtendedLifetime(pool) {}  // joined here, after any deinit on a worker has finished
    }
    #expect(elsewhere.pointee == 0, "\(elsewhere.pointee) of \(rounds) jobs were released by a worker")
}

/// CLOCK_MONOTONIC in nanoseconds.
private func monotonicTestNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

@Test("a worker that wakes after the caller ran every part never touches the job, which may be gone")
func workerPoolLateWorkerTouchesNoJob() throws {
    // The caller claims both empty parts before the sleeping worker wakes, returns, and drops
    // the job at once: the worker then finds the run's parts all claimed. Had it borrowed the
    // job before claiming (a debug build retains and releases a borrowed reference), it would
    // touch freed memory (AddressSanitizer: heap-use-after-free), or, if it came first, run the
    // job's deinit itself (ThreadSanitizer: the thread leak of the pool it then joins).
    let elsewhere = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    defer { elsewhere.deallocate() }
    elsewhere.pointee = 0
    for _ in 0..<200 {
        let pool = try WorkerPool<DeinitThreadJob>(threadCount: 2)
        usleep(1_000)  // (the new worker goes to sleep)
        var job: DeinitThreadJob? = DeinitThreadJob(counting: elsewhere)
        pool.run(job!, parts: 2)
        job = nil
        usleep(200)  // (the worker wakes to a run whose parts are all claimed, its job gone)
        withExtendedLifetime(pool) {}
    }
    #expect(elsewhere.pointee == 0, "\(elsewhere.pointee) jobs were released by a worker")
}

#if DEBUG
/// The claim-protocol test's job and probe: a worker parked between reading the claim word and
/// its compare-and-swap, released while the next run is under way. Parts count their runs per
/// run of the test (`epoch`), and any part the parked call runs after its run ended is counted.
private final class StaleClaimJob: ParallelJob, @unchecked Sendable {
    /// Which of the test's runs is in progress (0 or 1; -1 between them), and its part count.
    var epoch = -1, parts = 0
    /// Times each part of each run ran.
    let runs = UnsafeMutablePointer<Int>.allocate(capacity: 2 * 64)
    /// The worker is parked in its claim; it may go on; its parked call has left.
    let parked = Atomic<Bool>(false), released = Atomic<Bool>(false), left = Atomic<Bool>(false)
    /// Whether the probe has parked a worker already (it parks the first one only).
    let armed = Atomic<Bool>(true)
    /// The run number the parked call served (the pool's own count), -1 until it parks.
    let parkedRun = Atomic<Int>(-1)
    /// Parts the parked call ran after it was released; parts run with another run's count.
    let staleParts = Atomic<Int>(0), badCounts = Atomic<Int>(0)
    /// Waits that ran out of time (a hook that never fired, a worker that never left).
    let timeouts = Atomic<Int>(0)

    /// A job with no part run yet.
    init() { runs.initialize(repeating: 0, count: 2 * 64) }
    deinit { runs.deallocate() }

    /// Spins (yielding) until `condition` holds or 10 s pass; counts a timeout.
    func wait(until condition: () -> Bool) {
        let start = monotonicTestNanoseconds()
        while !condition() {
            if monotonicTestNanoseconds() - start > 10_000_000_000 {
                timeouts.add(1, ordering: .relaxed)
                return
            }
            sched_yield()
        }
    }

    /// The pool's probe: parks the first worker that is about to claim, until `released`, and
    /// notes when that call leaves.
    func probe(_ event: ClaimProbeEvent) {
        switch event {
        case let .beforeCompareExchange(run, _, thread):
            guard thread != 0, armed.exchange(false, ordering: .relaxed) else { return }
            parkedRun.store(run, ordering: .relaxed)
            parked.store(true, ordering: .releasing)
            wait { released.load(ordering: .acquiring) }
        case let .leaving(run, thread):
            if thread != 0, parked.load(ordering: .acquiring), run == parkedRun.load(ordering: .relaxed),
               released.load(ordering: .acquiring) {
                left.store(true, ordering: .releasing)
            }
        }
    }

    /// Counts the part, and holds the caller in run 0's and run 1's first parts (see the test).
    func runPart(_ part: Int, of parts: Int, thread: Int) {
        if parts != self.parts || epoch < 0 { badCounts.add(1, ordering: .relaxed) }
        // A part on the parked worker's thread between its release and its leaving is the stale call's.
        if thread != 0, released.load(ordering: .acquiring), !left.load(ordering: .acquiring) {
            staleParts.add(1, ordering: .relaxed)
        }
        if epoch >= 0, part < 64 { runs[epoch * 64 + part] += 1 }
        if thread == 0 && part == 0 {
            if epoch == 0 {
                // Run 0: hold the caller in its first part until a worker is parked in its claim.
                wait { parked.load(ordering: .acquiring) }
            } else if epoch == 1 {
                // Run 1 is under way with parts unclaimed: let the parked worker go, and wait
                // until the call it was parked in has left (having claimed nothing, if correct).
                released.store(true, ordering: .releasing)
                wait { left.load(ordering: .acquiring) }
            }
        }
    }
}

@Test("a worker parked between reading the claim word and its compare-and-swap claims nothing of the next run")
func workerPoolStaleClaimTakesNothing() throws {
    // The run number in the claim word is what keeps a worker that read an older run's state
    // from claiming a part of a newer one (runClaimedParts: `claim >> 16 == run`). The probe
    // puts a worker in that window on purpose: it reads run 0's claim word and parks; the caller
    // runs every part of run 0, returns, and starts run 1 (more parts than run 0); from inside
    // run 1's first part it releases the worker, whose compare-and-swap then fails against run
    // 1's claim word. It must leave without running anything: a part run by that call would be
    // run 1's, run under run 0's part count, by a call whose run had ended (its job possibly gone).
    let job = StaleClaimJob()
    var pool: WorkerPool<StaleClaimJob>? = try WorkerPool<StaleClaimJob>(threadCount: 2)
    pool!.claimProbe = { [unowned(unsafe) job] in job.probe($0) }
    let partCounts = [3, 6]
    for (epoch, parts) in partCounts.enumerated() {
        job.epoch = epoch
        job.parts = parts
        pool!.run(job, parts: parts)
        job.epoch = -1
    }
    pool = nil  // (joins the worker: no probe call can outlive the job)
    #expect(job.timeouts.load(ordering: .relaxed) == 0, "a wait ran out: no worker parked, or the parked call never left")
    #expect(job.parked.load(ordering: .acquiring) && job.left.load(ordering: .acquiring))
    #expect(job.parkedRun.load(ordering: .relaxed) >= 1)
    #expect(job.staleParts.load(ordering: .relaxed) == 0,
            "the parked call ran \(job.staleParts.load(ordering: .relaxed)) part(s) of the next run after its own had ended")
    #expect(job.badCounts.load(ordering: .relaxed) == 0, "a part ran with another run's part count")
    for (epoch, parts) in partCounts.enumerated() {
        #expect((0..<64).map { job.runs[epoch * 64 + $0] } == (0..<64).map { $0 < parts ? 1 : 0 },
                "run \(epoch): parts ran other than exactly once")
    }
}
#endif
