import CEngramKernels
import EngramSupport
import Foundation

/// all-MiniLM-L6-v2 (or any BERT-family sentence-transformers model with mean pooling), computed
/// natively on BLAS: no Python, no network, no API key.
///
/// Loads a standard sentence-transformers directory: `config.json`, `vocab.txt`,
/// `model.safetensors` (mapped, not copied), `sentence_bert_config.json` (maximum sequence length)
/// and `1_Pooling/config.json` (mean pooling is required).
///
/// Thread safety: `embed` may be called from many tasks; each call uses its own buffers and
/// splits its texts over ``threads`` worker threads (BLAS itself runs single-threaded per call).
public final class MiniLMEmbedder: SynchronousEmbedder, @unchecked Sendable {  // immutable after init
    /// Floats per embedding (384 for all-MiniLM-L6-v2).
    public let dimension: Int
    /// The model's name, from its directory (stored with a memory store's embeddings).
    public let modelName: String
    /// The model's WordPiece tokenizer.
    public let tokenizer: WordPieceTokenizer
    /// Worker threads per `embed` call.
    public let threads: Int
    let encoder: BertEncoder
    /// Texts per forward pass: enough rows to keep sgemm efficient, few enough to stay in cache.
    static let batchSize = 32

    /// The arithmetic of the encoder's dense layers (nine tenths of its work).
    public enum Precision: String, Sendable, CaseIterable {
        /// f32 throughout: the reference model's numbers (the default).
        case float32
        /// Weights and activations rounded to bfloat16, products summed in f32, on the CPU's
        /// AVX-512 BF16 instructions: faster, a little less faithful (README, "Embedder precision").
        case bfloat16
    }

    /// Whether this CPU runs ``Precision/bfloat16`` (AVX-512 BF16).
    public static let supportsBFloat16 = engram_cpu_has_bf16() != 0

    /// The arithmetic of the dense layers.
    public let precision: Precision

    /// - Parameters:
    ///   - directory: a model directory (used as given, never substituted); nil searches
    ///     `$ENGRAM_MODEL_DIR`, then the default cache (`scripts/fetch-model` fills it).
    ///   - threads: worker threads per call (default: the machine's cores).
    ///   - precision: f32 (default) or bf16 where ``supportsBFloat16``.
    /// - Throws: ``EmbeddingError/modelNotFound(searched:hint:)`` saying what to run,
    ///   ``EmbeddingError/invalidModel(path:reason:)``, or ``EmbeddingError/invalidConfiguration(_:)``
    ///   for bf16 on a CPU without AVX-512 BF16.
    public init(directory: String? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                precision: Precision = .float32) throws {
        guard precision == .float32 || Self.supportsBFloat16 else {
            throw EmbeddingError.invalidConfiguration("bfloat16 needs a CPU with AVX-512 BF16 (this one has none); use float32")
        }
        let dir = try ModelLocation.resolve(directory)
        let config = try Self.readJSON(dir + "/config.json")
        func int(_ key: String) throws -> Int {
            guard let v = config[key] as? Int else { throw EmbeddingError.invalidModel(path: dir + "/config.json", reason: "\(key) missing") }
            return v
        }
        var c = BertEncoder.Config()
        c.hidden = try int("hidden_size")
        c.heads = try int("num_attention_heads")
        c.intermediate = try int("intermediate_size")
        c.layers = try int("num_hidden_layers")
        c.vocabulary = try int("vocab_size")
        c.positions = try int("max_position_embeddings")
        c.eps = Float((config["layer_norm_eps"] as? Double) ?? 1e-12)
        guard (config["hidden_act"] as? String ?? "gelu") == "gelu" else {
            throw EmbeddingError.invalidModel(path: dir + "/config.json", reason: "only the gelu activation is supported")
        }
        if let pooling = try? Self.readJSON(dir + "/1_Pooling/config.json"), pooling["pooling_mode_mean_tokens"] as? Bool == false {
            throw EmbeddingError.invalidModel(path: dir + "/1_Pooling/config.json", reason: "only mean pooling is supported")
        }
        let maxLength = min((try? Self.readJSON(dir + "/sentence_bert_config.json"))?["max_seq_length"] as? Int ?? 256, c.positions)
        tokenizer = try WordPieceTokenizer(vocabularyFile: dir + "/vocab.txt", maxLength: maxLength)
        encoder = try BertEncoder(weights: SafeTensors(path: dir + "/model.safetensors"), config: c, bfloat16: precision == .bfloat16)
        self.precision = precision
        dimension = c.hidden
        modelName = URL(fileURLWithPath: dir).standardizedFileURL.lastPathComponent
        self.threads = max(1, threads)
    }

    /// One unit-length embedding per text, in order, computed on the worker threads.
    /// - Complexity: about 1.2 GFLOP per 57-token sentence.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        embedSync(texts)
    }

    /// The synchronous form of ``embed(_:)`` (for command-line tools and benchmarks).
    public func embedSync(_ texts: [String]) -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        _ = BLASSingleThread.once
        // Similar lengths go together, so batches are even; results return in input order.
        let encoded = texts.map(tokenizer.encode)
        let order = encoded.indices.sorted { encoded[$0].count < encoded[$1].count }
        let batches = stride(from: 0, to: order.count, by: Self.batchSize).map { Array(order[$0..<min(order.count, $0 + Self.batchSize)]) }
        let out = ResultBox(count: texts.count)
        // Fewer batches than threads (a lone query): each batch's products are split instead.
        let inner = batches.count < threads ? threads / batches.count : 1
        parallelFor(batches.count, threads: threads) { b in
            let batch = batches[b]
            let vectors = self.encoder.encode(batch.map { encoded[$0] }, threads: inner)
            for (i, v) in zip(batch, vectors) { out.set(i, v) }
        }
        return out.values
    }

    static func readJSON(_ path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw EmbeddingError.invalidModel(path: path, reason: "missing or not a JSON object") }
        return json
    }
}

/// Output slots written by disjoint workers.
private final class ResultBox: @unchecked Sendable {  // each slot is written by one worker before `values` is read
    private var slots: [[Float]]
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func set(_ i: Int, _ v: [Float]) { slots.withUnsafeMutableBufferPointer { $0[i] = v } }
    var values: [[Float]] { slots }
}

/// Engram runs one BLAS call per worker thread, so BLAS itself must not spawn threads.
enum BLASSingleThread {
    static let once: Bool = { engram_blas_set_threads(1) != 0 }()
}
