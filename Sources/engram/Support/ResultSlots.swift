import Foundation

/// Per-index result slots written from many threads (each index by one thread).
final class ResultSlots<T>: @unchecked Sendable {  // each slot is written by exactly one thread before `values()`
    private var slots: [Result<T, any Error>?]

    init(_ n: Int) { slots = Array(repeating: nil, count: n) }

    func set(_ i: Int, _ value: Result<T, any Error>) {
        slots.withUnsafeMutableBufferPointer { $0[i] = value }
    }

    func values() throws -> [T] { try slots.map { try $0!.get() } }
}
