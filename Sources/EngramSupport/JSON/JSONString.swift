/// JSON string literals, written by hand: the stored metadata and every JSON line the CLI and the
/// server print go through this one escaper.
package enum JSONString {
    /// Appends `s` as a JSON string literal (quotes, backslashes and control characters escaped).
    package static func append(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// `s` as a JSON string literal.
    package static func quote(_ s: String) -> String {
        var out = ""
        append(s, to: &out)
        return out
    }
}
