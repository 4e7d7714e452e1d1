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

/// The set of live handles, guarded by one mutex.
enum Handles {
    private static let lock = Platform.Lock()
    nonisolated(unsafe) private static var live: [UnsafeRawPointer: HandleKind] = [:]

    static func insert(_ pointer: UnsafeRawPointer, _ kind: HandleKind) {
        lock.withLock { live[pointer] = kind }
    }

    /// Removes `pointer` if it is a live handle of `kind`; false if it was not.
    static func remove(_ pointer: UnsafeRawPointer, _ kind: HandleKind) -> Bool {
        lock.withLock {
            guard live[pointer] == kind else { return false }
            live[pointer] = nil
            return true
        }
    }

    static func contains(_ pointer: UnsafeRawPointer, _ kind: HandleKind) -> Bool {
        lock.withLock { live[pointer] == kind }
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
