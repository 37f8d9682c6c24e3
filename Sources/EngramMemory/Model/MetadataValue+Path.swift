extension MetadataValue {
    /// The value a filter field names in `object`: the key itself when present, else a dotted
    /// path through nested objects (`"prefs.food"`), the leftmost split that resolves winning.
    ///
    /// A key that contains dots is taken whole first, so metadata written before nesting existed
    /// (`{"prefs.food": …}`) is still addressed as it was.
    /// - Complexity: O(dots in the path × depth) lookups.
    static func value(at path: String, in object: [String: MetadataValue]) -> MetadataValue? {
        if let value = object[path] { return value }
        return path.contains(".") ? nested(path[...], in: object) : nil
    }

    /// The value of the leftmost split of `path` at a dot whose head names a nested object in
    /// which the rest resolves.
    private static func nested(_ path: Substring, in object: [String: MetadataValue]) -> MetadataValue? {
        var start = path.startIndex
        while let dot = path[start...].firstIndex(of: ".") {
            let rest = path[path.index(after: dot)...]
            if case let .object(inner)? = object[String(path[..<dot])], let value = value(at: String(rest), in: inner) { return value }
            start = rest.startIndex
        }
        return nil
    }

    /// Every field a filter can name in `object` with the value ``value(at:in:)`` gives it: the
    /// keys, and the dotted paths into nested objects. What the posting lists are built from, so
    /// a posted lookup and a row-by-row evaluation cannot disagree.
    static func addressableFields(of object: [String: MetadataValue]) -> [(field: String, value: MetadataValue)] {
        guard object.values.contains(where: \.isObject) else { return object.map { ($0.key, $0.value) } }
        var paths: Set<String> = []
        func collect(_ object: [String: MetadataValue], prefix: String) {
            for (key, value) in object {
                let path = prefix + key
                paths.insert(path)
                if case let .object(inner) = value { collect(inner, prefix: path + ".") }
            }
        }
        collect(object, prefix: "")
        return paths.map { ($0, value(at: $0, in: object)!) }
    }

    var isObject: Bool { if case .object = self { true } else { false } }
}
