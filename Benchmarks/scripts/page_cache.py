#!/usr/bin/env python3
"""Page-cache control for cold-start measurements of mapped index files.

    python3 Benchmarks/scripts/page_cache.py evict FILE [START END]   # drop bytes START..END (default: all)
    python3 Benchmarks/scripts/page_cache.py resident FILE            # bytes of FILE in the page cache

`engram inspect FILE --json` gives each section's offset and length (evict only the f32 `vectors`
section to see what a search costs when the rows it re-scores are on disk). Eviction uses
posix_fadvise(DONTNEED), residency mincore(2); neither needs root.
"""
import ctypes, os, sys


def evict(path, start=0, end=None):
    fd = os.open(path, os.O_RDONLY)
    end = os.fstat(fd).st_size if end is None else end
    os.fsync(fd)
    os.posix_fadvise(fd, start, end - start, os.POSIX_FADV_DONTNEED)
    os.close(fd)


def resident(path):
    size = os.path.getsize(path)
    fd = os.open(path, os.O_RDONLY)
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    addr = libc.mmap(None, ctypes.c_size_t(size), 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
    pages = (size + 4095) // 4096
    vec = (ctypes.c_ubyte * pages)()
    libc.mincore(ctypes.c_void_p(addr), ctypes.c_size_t(size), vec)
    libc.munmap(ctypes.c_void_p(addr), ctypes.c_size_t(size))
    os.close(fd)
    return sum(v & 1 for v in vec) * 4096


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("evict", "resident"):
        sys.exit(__doc__)
    if sys.argv[1] == "evict":
        evict(sys.argv[2], *(int(x) for x in sys.argv[3:5]))
    else:
        print(resident(sys.argv[2]))
