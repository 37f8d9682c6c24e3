/// How far opening a store has come, reported while it opens.
///
/// Opening with a usable checkpoint maps it and takes in the changes made since: quick. A store
/// without one (a new node on a large shared database, or index files lost) reads every memory
/// and embedding from the record and builds every large tenant's graph: minutes at a few hundred
/// thousand memories, worth showing to whoever waits.
public struct OpenProgress: Sendable, Equatable, CustomStringConvertible {
    /// What the open is doing.
    public enum Stage: String, Sendable, Equatable {
        /// Reading the memories (without embeddings) from the record.
        case readingMemories = "reading memories"
        /// Reading the embeddings that the index files lack from the record.
        case readingEmbeddings = "reading embeddings"
        /// Building the graphs of the tenants large enough for one (`done`/`total` count memories).
        case buildingGraphs = "building graphs"
        /// Taking in the changes committed after the checkpoint.
        case catchingUp = "catching up"
    }

    /// What the open is doing.
    public var stage: Stage
    /// Items of the stage done so far.
    public var done: Int
    /// Items of the stage in all.
    public var total: Int

    public init(stage: Stage, done: Int, total: Int) {
        self.stage = stage
        self.done = done
        self.total = total
    }

    public var description: String { "\(stage.rawValue): \(done)/\(total)" }
}

/// Where an open reports its progress (nil: nowhere).
typealias OpenProgressHandler = @Sendable (OpenProgress) -> Void
