import EngramSupport
import Foundation

/// A memory as a snapshot holds it: decoded, or a record of a view file, decoded on first use
/// (opening a store decodes none of its memories).
///
/// One word: an array of these costs what an array of references does.
enum MemoryRef: Sendable {
    case decoded(DecodedMemory)
    case stored(StoredMemory)

    init(_ memory: Memory) { self = .decoded(DecodedMemory(memory)) }

    var memory: Memory {
        switch self {
        case let .decoded(box): box.memory
        case let .stored(record): record.memory
        }
    }

    /// Its expiry and validity, without decoding a stored record's text and metadata.
    var times: MemoryTimes {
        switch self {
        case let .decoded(box): MemoryTimes(box.memory)
        case let .stored(record): record.file.times(record.index) ?? MemoryTimes(record.memory)
        }
    }
}

/// A memory's expiry and validity as seconds since 1970 (NaN: none): what the time checks of a
/// listing or search read for every candidate.
struct MemoryTimes {
    var expires, validFrom, validTo: Double

    init(expires: Double, validFrom: Double, validTo: Double) {
        (self.expires, self.validFrom, self.validTo) = (expires, validFrom, validTo)
    }

    init(_ m: Memory) {
        self.init(expires: m.expiresAt?.timeIntervalSince1970 ?? .nan, validFrom: m.validFrom.timeIntervalSince1970,
                  validTo: m.validTo?.timeIntervalSince1970 ?? .nan)
    }

    /// ``Memory/isExpired(at:)``.
    func isExpired(at now: Double) -> Bool { !expires.isNaN && expires <= now }

    /// Whether `validity` sees it at `now` (seconds since 1970).
    func admitted(by validity: Validity, now: Double) -> Bool {
        switch validity {
        case .current: validTo.isNaN || validTo > now
        case let .asOf(instant):
            validFrom <= instant.timeIntervalSince1970 && (validTo.isNaN || validTo > instant.timeIntervalSince1970)
        case .all: true
        }
    }
}

/// A memory held by reference, so that evaluating a filter over many rows reads it in place
/// instead of copying every field (measured: copies were ~20% of search time).
final class DecodedMemory: Sendable {
    let memory: Memory
    init(_ memory: Memory) { self.memory = memory }
}

/// Record `index` of a view file, decoded once on first use; concurrent first uses may each
/// decode it, and one result is kept.
final class StoredMemory: Sendable {
    let file: ViewFile
    let index: Int
    private let decoded = SetOnce<Memory>()

    init(_ file: ViewFile, index: Int) {
        self.file = file
        self.index = index
    }

    var memory: Memory { decoded.value ?? decoded.publish(file.memory(index)) }
}
