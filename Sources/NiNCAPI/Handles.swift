// Handle bookkeeping for the C boundary: which opaque pointers are live models, contexts and
// PNG pixel buffers, so that NULL, freed or foreign handles are refused instead of crashing.
// Touched only when handles are made, freed or looked up; a run allocates nothing here.

import NiN
import NiNPlatform

/// What a live handle points at.
enum HandleKind {
    case model
    case context
    case pixels
}

/// The set of live handles, guarded by one mutex: a list searched from the end (a process holds
/// a few; a Dictionary cost a microcontroller's firmware its hashing, kilobytes of code).
enum Handles {
    private static let lock = Platform.Lock()
    nonisolated(unsafe) private static var live: [(pointer: UnsafeRawPointer, kind: HandleKind)] = []

    static func insert(_ pointer: UnsafeRawPointer, _ kind: HandleKind) {
        lock.withLock {
            if let index = index(of: pointer) { live[index].kind = kind } else { live.append((pointer, kind)) }
        }
    }

    /// Removes `pointer` if it is a live handle of `kind`; false if it was not.
    static func remove(_ pointer: UnsafeRawPointer, _ kind: HandleKind) -> Bool {
        lock.withLock {
            guard let index = index(of: pointer), live[index].kind == kind else { return false }
            live.swapAt(index, live.count - 1)
            live.removeLast()
            return true
        }
    }

    static func contains(_ pointer: UnsafeRawPointer, _ kind: HandleKind) -> Bool {
        lock.withLock { index(of: pointer).map { live[$0].kind == kind } ?? false }
    }

    /// Where `pointer` is in `live` (the caller holds the lock).
    private static func index(of pointer: UnsafeRawPointer) -> Int? {
        live.lastIndex { $0.pointer == pointer }
    }
}

/// The model behind a C handle, or an error naming the problem.
func model(_ handle: OpaquePointer?) throws(NiNError) -> NiNModel {
    guard let handle else { throw NiNError(.invalidArgument, "model is NULL") }
    let raw = UnsafeRawPointer(handle)
    guard Handles.contains(raw, .model) else { throw NiNError(.invalidArgument, "model handle is not a live model (freed, or not made by nin_model_load_*)") }
    return Unmanaged<NiNModel>.fromOpaque(raw).takeUnretainedValue()
}

/// The context behind a C handle, or an error naming the problem.
func context(_ handle: OpaquePointer?) throws(NiNError) -> NiNContext {
    guard let handle else { throw NiNError(.invalidArgument, "context is NULL") }
    let raw = UnsafeRawPointer(handle)
    guard Handles.contains(raw, .context) else { throw NiNError(.invalidArgument, "context handle is not a live context (freed, or not made by nin_context_create)") }
    return Unmanaged<NiNContext>.fromOpaque(raw).takeUnretainedValue()
}

/// Makes a retained C handle for `object` and records it.
func makeHandle<T: AnyObject>(_ object: T, _ kind: HandleKind) -> OpaquePointer {
    let raw = Unmanaged.passRetained(object).toOpaque()
    Handles.insert(raw, kind)
    return OpaquePointer(raw)
}
