import EngramEmbedding
import EngramIndex
import EngramSupport
import Foundation

/// Durable, tenant-scoped agent memories: the façade of the memory layer.
///
/// Under it:
/// - a **record store** (`RecordStore`; SQLite here) is the system of record: memories with their
///   embeddings, their history, dedup, transactions;
/// - **partitions**, one per tenant, derived from the record: each holds its memories, posting
///   lists over scope and metadata, a BM25 keyword index and, when large, an HNSW graph; one flat
///   index holds every vector (`MemoryVectors`);
/// - **one writer** (`StoreWriter`) applies each committed change to the partitions and
///   publishes a new immutable `StoreState`; a search reads one state from filter to result;
/// - **checkpoints** (`Checkpointer`) save the derived state to `index/` so that an open maps it
///   and catches up with the record instead of rebuilding; background tasks the store owns
///   (`BackgroundWork`) rebuild graphs and keyword indexes beside the writes.
///
/// Every call that reads or changes memories in bulk takes a ``MemoryScope`` with at least one
/// field set, and never sees or touches memories outside it.
///
/// Thread safety: `Sendable`. Searches and reads never wait for each other or for writes; writes
/// are serialized. Every write has a synchronous form and an `async` one, which runs the
/// transaction on the store's writer thread instead of Swift's cooperative pool.
public final class MemoryStore: Sendable {
    /// The store's directory: `memories.sqlite` (the record) and `index/` (checkpoints).
    public let directory: String
    /// The embedder of the store's memories (fixed per store: see ``init(directory:embedder:database:progress:)``).
    public let embedder: any Embedder
    let records: any RecordStore
    let writer: StoreWriter
    let checkpointer: Checkpointer
    let background: BackgroundWork
    /// Where async writes wait for their transaction: a thread of their own, not the cooperative pool.
    private let writeQueue = DispatchQueue(label: "engram.store.writes")
    /// Where async checkpoints run: not behind the writes (a checkpoint writes its view files
    /// after writers resume, and writes must not queue behind that).
    private let checkpointQueue = DispatchQueue(label: "engram.store.checkpoints")
    private let isClosed = Locked(false)
    /// Whether the index files listed at the open have been verified (``verifyIndexFiles()``).
    let indexVerified = Locked(false)
    /// Set when the background work of the open is done (``isReady``).
    let backgroundOpeningDone = Locked(false)
    /// When the change feed was last read through to its end (``catchUpLag``): the open's own
    /// catch-up counts, so the lag starts small and grows only while the feed cannot be read.
    let caughtUp = Locked(ContinuousClock.now)

    /// Opens (creating if needed) the store in `directory`: maps its last checkpoint and catches
    /// it up with the record, or rebuilds the derived state from the record when there is no
    /// usable checkpoint. Keyword indexes and graph rebuilds the open leaves for later run in the
    /// background.
    /// - Parameters:
    ///   - directory: with no `database`, the whole store: its record (`memories.sqlite`) and its
    ///     checkpoints (`index/`); with one, this node's checkpoints only.
    ///   - embedder: the embedder of the store's memories (a store never mixes models).
    ///   - database: a PostgreSQL database holding the record, shared by any number of nodes
    ///     (nil: SQLite in `directory`). This store then follows the other nodes' changes.
    ///   - progress: told now and then what the open is doing (on the opening thread); an open
    ///     that rebuilds from a large record takes minutes.
    /// - Throws: ``MemoryError/storeInUse(directory:pid:)`` when another process has the directory
    ///   open; ``MemoryError/invalidParameter(_:)`` when the store holds another embedder's vectors;
    ///   ``MemoryError/unavailable(_:)`` when the database cannot be reached; record errors.
    /// - Note: blocks while it reads; from async code, use ``open(directory:embedder:database:progress:)``.
    public init(directory: String, embedder: any Embedder, database: PostgresLocation? = nil,
                progress: (@Sendable (OpenProgress) -> Void)? = nil) throws {
        try MemoryError.reportingIO { try FileIO.createDirectory(directory) }
        try StoreLock.acquire(directory)
        do {
            let records: any RecordStore = try database.map { try PostgresRecordStore(location: $0, dimension: embedder.dimension) }
                ?? SQLiteRecordStore(path: directory + "/memories.sqlite", dimension: embedder.dimension)
            try records.bind(embedder: "\(embedder.modelName)/\(embedder.dimension)")
            let opened = try Checkpointer.open(directory + "/index", records: records, dimension: embedder.dimension, progress: progress)
            self.directory = directory
            self.embedder = embedder
            self.records = records
            writer = StoreWriter(state: opened.state, vectors: opened.vectors, ledger: opened.ledger)
            checkpointer = Checkpointer(directory: directory + "/index", committed: opened.committed)
            background = BackgroundWork(label: "engram.store.background")
        } catch {
            StoreLock.release(directory)
            throw error
        }
        finishOpeningInBackground()
        if records.isShared { followInBackground() }
    }

    /// ``init(directory:embedder:database:progress:)`` on a thread of its own, for async callers:
    /// opening reads files and the record, and must not hold one of Swift's cooperative threads meanwhile.
    public static func open(directory: String, embedder: any Embedder, database: PostgresLocation? = nil,
                            progress: (@Sendable (OpenProgress) -> Void)? = nil) async throws -> MemoryStore {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try MemoryStore(directory: directory, embedder: embedder, database: database, progress: progress) })
            }
        }
    }

    /// A store dropped without ``close()`` stops its background work and lets another process
    /// open it; it does not checkpoint (the next open catches up from the record).
    deinit {
        guard !isClosed.withLock({ $0 }) else { return }
        background.cancel()
        StoreLock.release(directory)
    }

    /// Throws ``MemoryError/closed`` once the store is closed.
    func ensureOpen() throws {
        if isClosed.withLock({ $0 }) { throw MemoryError.closed }
    }

    /// Runs a blocking write on the store's write thread: a transaction waits for the disk and for
    /// the writer, and must not hold one of the few threads of Swift's cooperative pool meanwhile.
    func onWriteQueue<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { continuation in
            writeQueue.async { continuation.resume(with: Result(catching: body)) }
        }
    }

    /// Runs a read of the record on a thread of its own (several at once).
    func onReadQueue<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { continuation in
            Self.readQueue.async { continuation.resume(with: Result(catching: body)) }
        }
    }

    private static let readQueue = DispatchQueue(label: "engram.store.reads", attributes: .concurrent)

    /// Runs a checkpoint on the store's checkpoint thread.
    func onCheckpointQueue<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { continuation in
            checkpointQueue.async { continuation.resume(with: Result(catching: body)) }
        }
    }

    /// Marks the store closed; false when it already was.
    func markClosed() -> Bool {
        isClosed.withLock { closed in
            defer { closed = true }
            return !closed
        }
    }
}
