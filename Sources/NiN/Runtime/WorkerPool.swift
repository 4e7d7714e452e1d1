// WorkerPool: a fixed set of threads made with a context. A run publishes one layer to them
// through an atomic generation counter; workers spin briefly on it (a layer follows the last
// within microseconds during an inference) and then sleep on a condition variable, so an idle
// context costs no CPU. Nothing is allocated per run (no Dispatch, no closures).
//
// Parts are claimed, not assigned: the calling thread and the workers take the next unclaimed
// part of the run from one atomic counter until none is left, then the caller waits only for
// the parts a worker is still running. A worker that is slow to wake (its core busy with
// another process, a thread preempted) therefore delays nothing: the caller runs its parts.
// With parts assigned to threads, one descheduled worker held every layer of a run for a
// scheduler time slice (about 1 ms a layer: 2 threads ran about 2x slower than 1, 15.9 against
// 7.8 ms, on a machine whose other core was busy). Which thread runs a part changes nothing
// else: the per-thread memory a part uses (kernel scratch, a lane's tensors) is that of the
// thread running it, never its number's, and a thread runs one part at a time.
//
// Fork: a child process has only the thread that called fork(), so a pool made before the fork
// has no workers there (and its mutex may have been held by one). The pool remembers the fork
// generation it was made in; the child's first split run sees a new one and starts new workers
// (falling back to running every part on the calling thread if it cannot), and a stale pool
// never waits for or joins the parent's threads. Results are the same bits either way.
//
// Ownership: a worker never holds a strong reference to its pool or to the job (the context):
// it borrows them (`Unmanaged`, no retain), and the caller of `run` keeps the job alive until
// every part is done. A worker that retained the job while running its part would release it
// after reporting the part done; if the caller had dropped its own reference by then, the
// job's deinit (a context's: its pool's deinit, which joins the workers) would run on that
// worker, join it from itself (EDEADLK), and leave it running on a freed pool, unjoined.

import NiNCPU
import Synchronization
import CNiNPlatform  // pthreads: the platform layer's C library (Embedded Swift has no Glibc)

/// Work that can be split into numbered parts and run on several threads at once.
package protocol ParallelJob: AnyObject {
    /// Runs part `part` of `parts` on thread `thread` of the pool (0: the calling thread):
    /// parts must write disjoint memory, except through per-thread memory (scratch, lanes)
    /// indexed by `thread`, which runs one part at a time.
    func runPart(_ part: Int, of parts: Int, thread: Int)
}

/// Threads 1..<threadCount of a context (the calling thread is thread 0), running one `Job`.
package final class WorkerPool<Job: ParallelJob>: @unchecked Sendable {
    /// Threads a run may use, the calling thread included.
    package let threadCount: Int
    /// `run number << 16 | parts`: bumped once per run, so a worker reads the run and its part
    /// count in one atomic load; it compares the run number with the last one it served.
    private let state = Atomic<Int>(0)
    /// Parts of the current run not yet finished.
    private let pending = Atomic<Int>(0)
    /// `run number << 16 | next part`: the next unclaimed part of the current run. A thread
    /// claims a part by a compare-and-swap that also checks the run number, so a worker that
    /// read an older run's state can never claim a part of a newer one.
    private let claims = Atomic<Int>(0)
    #if DEBUG
    /// Test-only, and only in debug builds (release builds compile it and its calls out):
    /// called by every thread in `runClaimedParts` between reading the claim word and its
    /// compare-and-swap, and as it leaves. Set before the pool's first run (whose releasing
    /// store publishes it to the workers) and never changed after.
    package var claimProbe: ((ClaimProbeEvent) -> Void)?
    #endif
    private let stopping = Atomic<Bool>(false)
    /// Workers asleep on `wake` (changed under `mutex`).
    private var sleepers = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// The context whose layers the pool runs: set by the first run (before the releasing store
    /// that publishes it) and the same object ever after. Unretained: see Ownership above.
    private var job: Unmanaged<Job>?
    private var threads: [pthread_t] = []
    /// `ninpriv_fork_generation()` when the workers in `threads` were started.
    private var generation: UInt

    /// Spin iterations (each with a pause) before a waiting worker goes to sleep: tens of
    /// microseconds, longer than the gap between two layers of one inference.
    static var spinLimit: Int { 20_000 }

    /// Starts `threadCount - 1` workers (none on a platform of one thread, NINPRIV_MAX_THREADS
    /// of nin_platform.h being 1 there: every part then runs on the calling thread).
    package init(threadCount: Int) throws(NiNError) {
        self.threadCount = min(threadCount, Int(NINPRIV_MAX_THREADS))
        generation = ninpriv_fork_generation()  // also registers the fork handler
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        try startWorkers()
    }

    /// Starts workers 1..<threadCount; on failure stops those already started and throws.
    private func startWorkers() throws(NiNError) {
        for index in 1..<max(threadCount, 1) {
            // Borrow the pool for the whole loop: a retain held by the thread would keep a freed
            // context's pool (its arena and this thread) alive forever.
            let pool = Unmanaged.passUnretained(self)
            let start = Unmanaged.passRetained(WorkerStart { pool._withUnsafeGuaranteedRef { $0.workerLoop(index: index) } })
                .toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { argument in
                Unmanaged<WorkerStart>.fromOpaque(argument!).takeRetainedValue().loop()
                return nil
            }, start)
            guard status == 0 else {
                Unmanaged<WorkerStart>.fromOpaque(start).release()
                stop()
                throw NiNError(.outOfMemory, "cannot start worker thread \(index): pthread_create returned \(status)")
            }
            threads.append(thread)
        }
    }

    /// In the child of a fork: forgets the parent's workers (they do not exist here, and one of
    /// them may have held the mutex), resets the shared state and starts new workers. If they
    /// cannot be started the pool is left with none, and `run` uses the calling thread alone.
    private func restartAfterFork() {
        threads.removeAll()
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        sleepers = 0
        state.store(0, ordering: .relaxed)
        pending.store(0, ordering: .relaxed)
        stopping.store(false, ordering: .relaxed)
        generation = ninpriv_fork_generation()
        do throws(NiNError) {
            try startWorkers()
        } catch {
            threads.removeAll()
            stopping.store(false, ordering: .relaxed)
        }
    }

    deinit {
        let inherited = generation != ninpriv_fork_generation()
        stop()
        if !inherited {  // in a fork's child the mutex may still be held by a parent's worker
            pthread_cond_destroy(wake)
            pthread_mutex_destroy(mutex)
        }
        wake.deallocate()
        mutex.deallocate()
    }

    /// Runs `job` split into `parts` parts (at most 65,535; more than the threads is fine: they
    /// are claimed one at a time) and returns when all are done.
    package func run(_ job: Job, parts: Int) {
        let parts = min(parts, 0xFFFF)
        if parts <= 1 || threadCount <= 1 {
            for part in 0..<max(parts, 1) { job.runPart(part, of: max(parts, 1), thread: 0) }
            return
        }
        if generation != ninpriv_fork_generation() { restartAfterFork() }
        if threads.count < min(parts, threadCount) - 1 {
            // No workers (a fork's child that could not start them): the same parts, one by one.
            for part in 0..<parts { job.runPart(part, of: parts, thread: 0) }
            return
        }
        if self.job == nil { self.job = .passUnretained(job) }
        pending.store(parts, ordering: .relaxed)
        let run = (state.load(ordering: .relaxed) >> 16) + 1
        claims.store(run << 16, ordering: .relaxed)
        state.store(run << 16 | parts, ordering: .releasing)
        pthread_mutex_lock(mutex)
        if sleepers > 0 { pthread_cond_broadcast(wake) }
        pthread_mutex_unlock(mutex)

        runClaimedParts(of: run, parts: parts, thread: 0)

        var spins = 0
        while pending.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins < WorkerPool.spinLimit { ninpriv_cpu_relax() } else { sched_yield() }
        }
    }

    private func stop() {
        // A pool made before a fork has no workers in the child: nothing to wake or join.
        guard generation == ninpriv_fork_generation() else { return }
        stopping.store(true, ordering: .releasing)
        state.add(1 << 16, ordering: .releasing)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    private func workerLoop(index: Int) {
        _ = ninpriv_fp_round_to_nearest()  // a new thread inherits its creator's mode; nin's is nearest
        var seen = 0
        while true {
            var current = state.load(ordering: .acquiring)
            var spins = 0
            while current >> 16 == seen && spins < WorkerPool.spinLimit {
                ninpriv_cpu_relax()
                spins += 1
                current = state.load(ordering: .acquiring)
            }
            if current >> 16 == seen {
                pthread_mutex_lock(mutex)
                sleepers += 1
                while state.load(ordering: .acquiring) >> 16 == seen { pthread_cond_wait(wake, mutex) }
                sleepers -= 1
                pthread_mutex_unlock(mutex)
                current = state.load(ordering: .acquiring)
            }
            seen = current >> 16
            if stopping.load(ordering: .acquiring) { return }
            let parts = current & 0xFFFF
            guard index < parts else { continue }  // (a run of few parts needs few workers)
            runClaimedParts(of: seen, parts: parts, thread: index)
        }
    }

    /// Claims and runs parts of run `run` until none is left unclaimed (or a newer run has
    /// begun, which only happens to a worker once the caller saw every part of `run` done).
    /// The job is touched only for a part claimed: that part keeps `pending` above 0, so the
    /// caller is still in `run`, keeping the job alive, until this thread reports it done. A
    /// worker that wakes after the caller ran every part itself (and maybe freed the context)
    /// claims nothing and never touches the job.
    private func runClaimedParts(of run: Int, parts: Int, thread: Int) {
        var claim = claims.load(ordering: .acquiring)
        while claim >> 16 == run && claim & 0xFFFF < parts {
            #if DEBUG
            claimProbe?(.beforeCompareExchange(run: run, claim: claim, thread: thread))
            #endif
            let (exchanged, found) = claims.compareExchange(expected: claim, desired: claim + 1,
                                                            ordering: .acquiringAndReleasing)
            if exchanged {
                // Borrowed, not retained (see Ownership above).
                job!._withUnsafeGuaranteedRef { $0.runPart(claim & 0xFFFF, of: parts, thread: thread) }
                pending.subtract(1, ordering: .releasing)
                claim += 1
            } else {
                claim = found
            }
        }
        #if DEBUG
        claimProbe?(.leaving(run: run, thread: thread))
        #endif
    }
}

#if DEBUG
/// Test-only (debug builds): where a thread is in `WorkerPool.runClaimedParts`, as told to the
/// pool's `claimProbe`.
package enum ClaimProbeEvent: Sendable {
    /// The thread read `claim` (`run << 16 | next part`) while serving `run` and is about to
    /// compare-and-swap it.
    case beforeCompareExchange(run: Int, claim: Int, thread: Int)
    /// The thread stops claiming parts of `run`.
    case leaving(run: Int, thread: Int)
}
#endif

/// What a new thread runs: its pool's worker loop, with the pool unretained so that the threads
/// never keep their pool alive.
private final class WorkerStart {
    let loop: () -> Void
    init(_ loop: @escaping () -> Void) { self.loop = loop }
}
