/// Counts the tokens a text takes in a model's prompt, for ``MemoryStore/recall(_:scope:filter:budgetTokens:options:)``.
///
/// Plug in the tokenizer of the model the context is for to pack it tightly; the default,
/// ``EstimatedTokenCounter``, needs no tables and errs on the side of more tokens.
public protocol TokenCounter: Sendable {
    /// The tokens `text` takes.
    func count(_ text: String) -> Int
}
