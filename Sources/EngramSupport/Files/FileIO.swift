#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and crash-safe whole-file writes on POSIX calls.
package enum FileIO {
    /// The bytes of the file at `path`.
    package static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemCallError(path: path, operation: "stat", errno: errno) }
        let size = Int(st.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buf in
            while done < size {
                let n = systemRead(fd, buf.baseAddress! + done, size - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw SystemCallError(path: path, operation: "read", errno: n < 0 ? errno : EIO) }
                done += n
            }
        }
        return bytes
    }

    /// Replaces the file at `path` atomically: writes a temporary file in the same directory, fsyncs
    /// it, renames it over `path` and fsyncs the directory. A crash at any point leaves either the old
    /// file or the new one. `write` receives a sink to call with consecutive chunks.
    package static func writeAtomically(_ path: String, _ write: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let dir = directory(of: path)
        let temp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemCallError(path: temp, operation: "create", errno: errno) }
        var committed = false
        defer {
            if !committed { unlink(temp) }
        }
        do {
            try write { chunk in try writeAll(fd, chunk, path: temp) }
            // A failed fsync is final: the page cache may have dropped the data, so never retry it.
            guard fsync(fd) == 0 else { throw SystemCallError(path: temp, operation: "fsync", errno: errno) }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw SystemCallError(path: temp, operation: "close", errno: errno) }
        guard rename(temp, path) == 0 else { throw SystemCallError(path: path, operation: "rename", errno: errno) }
        committed = true
        try fsyncDirectory(dir)
    }

    private static func writeAll(_ fd: Int32, _ chunk: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < chunk.count {
            let n = systemWrite(fd, chunk.baseAddress! + done, chunk.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SystemCallError(path: path, operation: "write", errno: n < 0 ? errno : EIO) }
            done += n
        }
    }

    /// Overwrites byte ranges of the existing file at `path` in place, in the order given, and
    /// fsyncs it. Not atomic: a crash may leave some of the ranges written; callers make files
    /// whose partial patch a check can detect (a checksum written last).
    package static func patch(_ path: String, _ edits: [(offset: Int, bytes: [UInt8])]) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        for (offset, bytes) in edits {
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw SystemCallError(path: path, operation: "write", errno: n < 0 ? errno : EIO) }
                done += n
            }
        }
        guard fsync(fd) == 0 else { throw SystemCallError(path: path, operation: "fsync", errno: errno) }
    }

    /// Creates the directory at `path` and any missing parents (nothing when it exists).
    package static func createDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw SystemCallError(path: current, operation: "create directory", errno: errno)
            }
        }
    }

    package static func fsyncDirectory(_ dir: String) throws {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError(path: dir, operation: "open directory", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemCallError(path: dir, operation: "fsync directory", errno: errno) }
    }

    package static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }
}

// `read`/`write` of the C library; the names alone would resolve to FileIO's own `read`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.read(fd, buffer, count)
    #else
    Darwin.read(fd, buffer, count)
    #endif
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}
