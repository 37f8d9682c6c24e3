/// A query as a graph walk reads it: its f32 vector (what construction and re-scoring use), and,
/// when the walk runs on 8-bit codes, its prepared bytes (see ``ScalarQuantizer``).
struct TraversalQuery {
    let vector: UnsafePointer<Float>
    var code: (bytes: UnsafePointer<Int8>, query: ScalarQuantizer.Query)?

    init(_ vector: UnsafePointer<Float>, code: (bytes: UnsafePointer<Int8>, query: ScalarQuantizer.Query)? = nil) {
        self.vector = vector
        self.code = code
    }
}
