import CBLAS
import CEngramKernels
import EngramSupport
import Foundation

/// A BERT encoder (embeddings, self-attention layers, GELU feed-forward, LayerNorm) with mean
/// pooling and L2 normalization: the sentence-transformers forward pass, on `cblas_sgemm`.
///
/// Sequences are packed back to back (no padding): the dense layers work row by row, and attention
/// runs per sequence over its own length, so no token is computed twice or masked.
final class BertEncoder: @unchecked Sendable {  // immutable after init; buffers are per call
    struct Config {
        var hidden = 384, heads = 12, intermediate = 1536, layers = 6, vocabulary = 30522, positions = 512
        var eps: Float = 1e-12
        var headDim: Int { hidden / heads }
    }

    struct Layer {
        var qkvWeight: [Float]  // [3H, H]: query, key and value stacked, so one sgemm computes all three
        var qkvBias: [Float]
        let attentionOut: UnsafePointer<Float>, attentionOutBias: UnsafePointer<Float>
        let norm1Gamma: UnsafePointer<Float>, norm1Beta: UnsafePointer<Float>
        let intermediate: UnsafePointer<Float>, intermediateBias: UnsafePointer<Float>
        let output: UnsafePointer<Float>, outputBias: UnsafePointer<Float>
        let norm2Gamma: UnsafePointer<Float>, norm2Beta: UnsafePointer<Float>
        /// The four dense layers' weights in bf16 panels (qkv, attention output, intermediate,
        /// output) when the encoder runs them in bf16.
        var packed: [PackedWeights]? = nil
    }

    /// A dense layer's weights rounded to bf16 and packed for the bf16 kernel (see
    /// `engram_bf16_pack_weights`): 16 output columns per panel, each input pair's weights adjacent.
    struct PackedWeights {
        let panels: [UInt16]
        let outputs: Int, inputs: Int

        init(_ weight: UnsafePointer<Float>, outputs: Int, inputs: Int) {
            panels = [UInt16](unsafeUninitializedCapacity: engram_bf16_panel_count(outputs, inputs)) { out, count in
                engram_bf16_pack_weights(weight, outputs, inputs, out.baseAddress!)
                count = out.count
            }
            (self.outputs, self.inputs) = (outputs, inputs)
        }
    }

    let config: Config
    let weights: SafeTensors
    let wordEmbeddings, positionEmbeddings, typeEmbeddings, embeddingGamma, embeddingBeta: UnsafePointer<Float>
    let layers: [Layer]

    /// Whether the dense layers run in bf16 (see ``init(weights:config:bfloat16:)``).
    let bfloat16: Bool

    /// - Parameter bfloat16: run the dense layers (90% of the work) on bf16 weights and
    ///   activations with f32 sums, on the CPU's AVX-512 BF16 instructions (the caller checks
    ///   `engram_cpu_has_bf16()`); attention, LayerNorm and pooling stay f32.
    init(weights: SafeTensors, config: Config, bfloat16: Bool = false) throws {
        self.config = config
        self.bfloat16 = bfloat16
        self.weights = weights
        let h = config.hidden, i = config.intermediate
        func w(_ name: String, _ shape: [Int]) throws -> UnsafePointer<Float> {
            // Checkpoints exported from BertModel name tensors without the "bert." prefix; others with it.
            if weights.entries[name] == nil, weights.entries["bert." + name] != nil { return try weights.floats("bert." + name, shape: shape) }
            return try weights.floats(name, shape: shape)
        }
        wordEmbeddings = try w("embeddings.word_embeddings.weight", [config.vocabulary, h])
        positionEmbeddings = try w("embeddings.position_embeddings.weight", [config.positions, h])
        typeEmbeddings = try w("embeddings.token_type_embeddings.weight", [2, h])
        embeddingGamma = try w("embeddings.LayerNorm.weight", [h])
        embeddingBeta = try w("embeddings.LayerNorm.bias", [h])
        var layers = try (0..<config.layers).map { l in
            let p = "encoder.layer.\(l)."
            var qkv = [Float](), qkvBias = [Float]()
            for part in ["query", "key", "value"] {
                qkv += UnsafeBufferPointer(start: try w(p + "attention.self.\(part).weight", [h, h]), count: h * h)
                qkvBias += UnsafeBufferPointer(start: try w(p + "attention.self.\(part).bias", [h]), count: h)
            }
            return Layer(
                qkvWeight: qkv, qkvBias: qkvBias,
                attentionOut: try w(p + "attention.output.dense.weight", [h, h]), attentionOutBias: try w(p + "attention.output.dense.bias", [h]),
                norm1Gamma: try w(p + "attention.output.LayerNorm.weight", [h]), norm1Beta: try w(p + "attention.output.LayerNorm.bias", [h]),
                intermediate: try w(p + "intermediate.dense.weight", [i, h]), intermediateBias: try w(p + "intermediate.dense.bias", [i]),
                output: try w(p + "output.dense.weight", [h, i]), outputBias: try w(p + "output.dense.bias", [h]),
                norm2Gamma: try w(p + "output.LayerNorm.weight", [h]), norm2Beta: try w(p + "output.LayerNorm.bias", [h]))
        }
        if bfloat16 {
            layers = layers.map { layer in
                var layer = layer
                layer.packed = [
                    layer.qkvWeight.withUnsafeBufferPointer { PackedWeights($0.baseAddress!, outputs: 3 * h, inputs: h) },
                    PackedWeights(layer.attentionOut, outputs: h, inputs: h),
                    PackedWeights(layer.intermediate, outputs: i, inputs: h),
                    PackedWeights(layer.output, outputs: h, inputs: i),
                ]
                return layer
            }
        }
        self.layers = layers
    }

    /// Pooled, L2-normalized embeddings of token sequences (each already within the position limit).
    /// `threads` > 1 splits each product of the pass over that many threads (the dense layers by
    /// output columns, attention by heads): what a lone request uses to finish sooner.
    func encode(_ sequences: [[Int32]], threads: Int = 1) -> [[Float]] {
        let h = config.hidden
        let lengths = sequences.map(\.count)
        let starts = lengths.reduce(into: [0]) { $0.append($0.last! + $1) }
        let tokens = starts.last!
        var x = [Float](repeating: 0, count: tokens * h)
        embed(sequences, starts: starts, into: &x)
        var scratch = Scratch(tokens: tokens, config: config, longest: lengths.max() ?? 0, threads: threads, bfloat16: bfloat16)
        for layer in layers { forward(layer, &x, lengths: lengths, starts: starts, scratch: &scratch) }
        return (0..<sequences.count).map { pool(x, start: starts[$0], count: lengths[$0]) }
    }

    /// Working buffers of one `encode` call, sized for its tokens.
    struct Scratch {
        var qkv, context, attention, intermediate, scores: [Float]
        /// A dense layer's input rounded to bf16 (empty in f32).
        var half: [UInt16]
        /// Threads each product is split over (see ``encode(_:threads:)``).
        let threads: Int
        init(tokens: Int, config: Config, longest: Int, threads: Int, bfloat16: Bool = false) {
            half = bfloat16 ? [UInt16](repeating: 0, count: tokens * (max(config.hidden, config.intermediate) + 1)) : []
            qkv = [Float](repeating: 0, count: tokens * 3 * config.hidden)
            context = [Float](repeating: 0, count: tokens * config.hidden)
            attention = [Float](repeating: 0, count: tokens * config.hidden)
            intermediate = [Float](repeating: 0, count: tokens * config.intermediate)
            // One score matrix per head when heads run in parallel.
            scores = [Float](repeating: 0, count: longest * longest * (threads > 1 ? config.heads : 1))
            self.threads = max(1, threads)
        }
    }

    private func embed(_ sequences: [[Int32]], starts: [Int], into x: inout [Float]) {
        let h = config.hidden
        x.withUnsafeMutableBufferPointer { out in
            for (s, ids) in sequences.enumerated() {
                for (p, id) in ids.enumerated() {
                    let row = out.baseAddress! + (starts[s] + p) * h
                    let word = wordEmbeddings + Int(id) * h, pos = positionEmbeddings + p * h
                    for j in 0..<h { row[j] = word[j] + pos[j] + typeEmbeddings[j] }
                }
            }
            engram_layer_norm(out.baseAddress!, starts.last!, h, embeddingGamma, embeddingBeta, config.eps)
        }
    }

    private func forward(_ layer: Layer, _ x: inout [Float], lengths: [Int], starts: [Int], scratch: inout Scratch) {
        let h = config.hidden, tokens = starts.last!
        layer.qkvWeight.withUnsafeBufferPointer { w in
            layer.qkvBias.withUnsafeBufferPointer { b in
                Self.linear(x, rows: tokens, inputs: h, weight: w.baseAddress!, packed: layer.packed?[0], bias: b.baseAddress!, outputs: 3 * h,
                            scratch: &scratch, into: \.qkv)
            }
        }
        attend(&scratch, lengths: lengths, starts: starts)
        Self.linear(scratch.context, rows: tokens, inputs: h, weight: layer.attentionOut, packed: layer.packed?[1], bias: layer.attentionOutBias,
                    outputs: h, scratch: &scratch, into: \.attention)
        Self.addAndNormalize(&x, scratch.attention, rows: tokens, cols: h, gamma: layer.norm1Gamma, beta: layer.norm1Beta, eps: config.eps)
        Self.linear(x, rows: tokens, inputs: h, weight: layer.intermediate, packed: layer.packed?[2], bias: layer.intermediateBias,
                    outputs: config.intermediate, scratch: &scratch, into: \.intermediate)
        scratch.intermediate.withUnsafeMutableBufferPointer { engram_gelu($0.baseAddress!, $0.count) }
        Self.linear(scratch.intermediate, rows: tokens, inputs: config.intermediate, weight: layer.output, packed: layer.packed?[3],
                    bias: layer.outputBias, outputs: h, scratch: &scratch, into: \.attention)
        Self.addAndNormalize(&x, scratch.attention, rows: tokens, cols: h, gamma: layer.norm2Gamma, beta: layer.norm2Beta, eps: config.eps)
    }

    /// Multi-head self-attention of each sequence over its own tokens: softmax(Q Kᵀ / √d) V.
    private func attend(_ s: inout Scratch, lengths: [Int], starts: [Int]) {
        let h = config.hidden, d = config.headDim, ld = 3 * h
        let scale = 1 / Float(d).squareRoot()
        let threads = s.threads, square = s.scores.count / (threads > 1 ? config.heads : 1)
        s.qkv.withUnsafeBufferPointer { qkv in
            s.context.withUnsafeMutableBufferPointer { ctx in
                s.scores.withUnsafeMutableBufferPointer { scores in
                    let (qkv, ctx, scores) = (UnsafeSendable(qkv.baseAddress!), UnsafeSendable(ctx.baseAddress!), UnsafeSendable(scores.baseAddress!))
                    for (seq, n) in lengths.enumerated() where n > 0 {
                        let base = UnsafeSendable(qkv.value + starts[seq] * ld), out = UnsafeSendable(ctx.value + starts[seq] * h)
                        // Heads write disjoint columns of the context, each from its own score matrix.
                        parallelFor(config.heads, threads: threads) { head in
                            let q = base.value + head * d, k = base.value + h + head * d, v = base.value + 2 * h + head * d
                            let p = scores.value + (threads > 1 ? head * square : 0)
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(d),
                                        scale, q, Int32(ld), k, Int32(ld), 0, p, Int32(n))
                            engram_softmax_rows(p, n, n, n)
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(d), Int32(n),
                                        1, p, Int32(n), v, Int32(ld), 0, out.value + head * d, Int32(h))
                        }
                    }
                }
            }
        }
    }

    /// scratch[out] = input · weightᵀ + bias (weight is [outputs, inputs], PyTorch's layout), in
    /// bf16 when `packed` is given, the output columns split over the scratch's threads (in
    /// blocks of 16, each its own product).
    static func linear(_ input: [Float], rows: Int, inputs: Int, weight: UnsafePointer<Float>, packed: PackedWeights?,
                       bias: UnsafePointer<Float>, outputs: Int, scratch: inout Scratch, into out: WritableKeyPath<Scratch, [Float]>) {
        assert(packed.map { $0.outputs == outputs && $0.inputs == inputs } ?? true, "packed weights of another shape")
        if packed != nil { input.withUnsafeBufferPointer { engram_bf16_rows($0.baseAddress!, rows, inputs, &scratch.half) } }
        let threads = scratch.threads, half = scratch.half
        scratch[keyPath: out].withUnsafeMutableBufferPointer { o in
            for r in 0..<rows { (o.baseAddress! + r * outputs).update(from: bias, count: outputs) }
            input.withUnsafeBufferPointer { x in
                half.withUnsafeBufferPointer { half in
                    let (x, o, weight, half) = (UnsafeSendable(x.baseAddress!), UnsafeSendable(o.baseAddress!), UnsafeSendable(weight),
                                                UnsafeSendable(half.baseAddress))
                    let width = (outputs / max(1, threads) + 15) & ~15
                    parallelFor((outputs + width - 1) / width, threads: threads) { part in
                        let first = part * width, count = min(width, outputs - first)
                        if let packed {
                            packed.panels.withUnsafeBufferPointer { panels in
                                engram_gemm_bf16_avx512(half.value!, rows, (inputs + 1) / 2, panels.baseAddress!, first / 16, (count + 15) / 16,
                                                        o.value, outputs, outputs)
                            }
                        } else {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(count), Int32(inputs),
                                        1, x.value, Int32(inputs), weight.value + first * inputs, Int32(inputs), 1, o.value + first, Int32(outputs))
                        }
                    }
                }
            }
        }
    }

    static func addAndNormalize(_ x: inout [Float], _ y: [Float], rows: Int, cols: Int,
                                gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float) {
        x.withUnsafeMutableBufferPointer { xb in
            cblas_saxpy(Int32(rows * cols), 1, y, 1, xb.baseAddress!, 1)
            engram_layer_norm(xb.baseAddress!, rows, cols, gamma, beta, eps)
        }
    }

    /// Mean over the sequence's tokens, then L2 normalization.
    private func pool(_ x: [Float], start: Int, count: Int) -> [Float] {
        let h = config.hidden
        var mean = [Double](repeating: 0, count: h)
        for t in start..<start + count { for j in 0..<h { mean[j] += Double(x[t * h + j]) } }
        let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return mean.map { Float(norm > 0 ? $0 / norm : 0) }
    }
}
