// WorkerPool: a fixed set of threads made with a context and parked on a condition variable.
// A run hands each thread one part of a layer; nothing is allocated per run (no Dispatch, no
// closures), and the only lock is the hand-off itself.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Work that can be split into numbered parts and run on several threads at once.
protocol ParallelJob: AnyObject {
    /// Runs part `part` of `parts`; parts must write disjoint memory.
    func runPart(_ part: Int, of parts: Int)
}

/// Threads 1..<threadCount of a context (the calling thread is part 0).
final class WorkerPool: @unchecked Sendable {
    let threadCount: Int
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var generation = 0
    private var pending = 0
    private var parts = 0
    private var stopping = false
    private unowned(unsafe) var job: ParallelJob?
    private var threads: [pthread_t] = []

    /// Starts `threadCount - 1` workers.
    init(threadCount: Int) throws(NiNError) {
        self.threadCount = threadCount
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(finished, nil)
        for index in 1..<max(threadCount, 1) {
            let start = Unmanaged.passRetained(WorkerStart(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { argument in
                let start = Unmanaged<WorkerStart>.fromOpaque(argument!).takeRetainedValue()
                start.pool.workerLoop(index: start.index)
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

    deinit {
        stop()
        pthread_cond_destroy(wake)
        pthread_cond_destroy(finished)
        pthread_mutex_destroy(mutex)
        wake.deallocate()
        finished.deallocate()
        mutex.deallocate()
    }

    /// Runs `job` split into `parts` (at most threadCount) parts and returns when all are done.
    func run(_ job: ParallelJob, parts: Int) {
        let parts = min(parts, threadCount)
        if parts <= 1 {
            job.runPart(0, of: 1)
            return
        }
        pthread_mutex_lock(mutex)
        self.job = job
        self.parts = parts
        pending = parts - 1
        generation &+= 1
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)

        job.runPart(0, of: parts)

        pthread_mutex_lock(mutex)
        while pending > 0 { pthread_cond_wait(finished, mutex) }
        self.job = nil
        pthread_mutex_unlock(mutex)
    }

    private func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    private func workerLoop(index: Int) {
        var seen = 0
        pthread_mutex_lock(mutex)
        while true {
            while generation == seen && !stopping { pthread_cond_wait(wake, mutex) }
            if stopping { break }
            seen = generation
            let parts = self.parts
            guard index < parts, let job else { continue }
            pthread_mutex_unlock(mutex)
            job.runPart(index, of: parts)
            pthread_mutex_lock(mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(finished) }
        }
        pthread_mutex_unlock(mutex)
    }
}

/// What a new thread needs; unowned so that the threads never keep their pool alive.
private final class WorkerStart {
    unowned(unsafe) let pool: WorkerPool
    let index: Int
    init(pool: WorkerPool, index: Int) {
        self.pool = pool
        self.index = index
    }
}
