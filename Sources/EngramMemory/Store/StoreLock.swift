import EngramSupport
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps a store to one process. A store's derived state lives in its process; another process
/// writing the same record would go unseen by it (searches missing its memories, showing ones it
/// deleted), so opening a store that another process has open fails instead.
///
/// A POSIX record lock on `DIR/lock`: owned by the process (so several stores on one directory in
/// one process, as tests make, do not conflict), released by the kernel when the process exits,
/// however it exits. The file stays open while a store of the process uses it, because closing
/// any descriptor of it would drop the process's lock; the last ``release(_:)`` closes it.
enum StoreLock {
    private static let held = Locked<[String: (fd: Int32, users: Int)]>([:])

    /// Takes the lock of the store in `directory` for this process (at once if it has it already).
    /// - Throws: ``MemoryError/storeInUse(directory:pid:)`` when another process holds it.
    static func acquire(_ directory: String) throws {
        let path = directory + "/lock"
        try held.withLock { held in
            if let entry = held[path] {
                held[path] = (entry.fd, entry.users + 1)
                return
            }
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw MemoryError.io(path: path, operation: "open", errno: errno) }
            var lock = flock()
            lock.l_type = Int16(F_WRLCK)
            lock.l_whence = Int16(SEEK_SET)
            if fcntl(fd, F_SETLK, &lock) != 0 {
                var owner = flock()
                owner.l_type = Int16(F_WRLCK)
                owner.l_whence = Int16(SEEK_SET)
                _ = fcntl(fd, F_GETLK, &owner)
                close(fd)
                throw MemoryError.storeInUse(directory: directory, pid: Int(owner.l_pid))
            }
            held[path] = (fd, 1)
        }
    }

    /// Gives back one ``acquire(_:)``; the last one releases the lock for other processes.
    static func release(_ directory: String) {
        let path = directory + "/lock"
        held.withLock { held in
            guard let entry = held[path] else { return }
            if entry.users > 1 {
                held[path] = (entry.fd, entry.users - 1)
            } else {
                close(entry.fd)
                held[path] = nil
            }
        }
    }
}
