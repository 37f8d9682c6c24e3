import Foundation

extension Date {
    /// The date as the database keeps it (seconds since 1970, a Double): giving a new memory its
    /// dates this way makes the memory an add returns equal to the one read back after a reopen.
    var asStored: Date { Date(timeIntervalSince1970: timeIntervalSince1970) }
}
