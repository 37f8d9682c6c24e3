import EngramMemory
import Testing

@Suite("PostgreSQL location")
struct PostgresLocationTests {
    @Test("a URL's parts, TLS mode and timeout are read; the password never shows")
    func parses() throws {
        let location = try PostgresLocation(url: "postgresql://engram:s3cret@db.internal:6432/memories?sslmode=require&timeout=2.5")
        #expect(location.host == "db.internal" && location.port == 6432 && location.user == "engram" && location.database == "memories")
        #expect(location.requiresTLS && location.operationTimeout == .milliseconds(2_500))
        #expect(location.description == "postgres://engram@db.internal:6432/memories")
        let plain = try PostgresLocation(url: "postgres://u@localhost/db")
        #expect(plain.port == 5432 && !plain.requiresTLS && plain.operationTimeout == .seconds(10))
    }

    @Test("what is not a usable URL is refused with a message naming the problem",
          arguments: [
            ("mysql://u@h/db", "postgres://"), ("postgres://u@h", "no database"), ("postgres:///db", "no host"),
            ("postgres://u@h/db?sslmode=sometimes", "sslmode"), ("postgres://u@h/db?timeout=0", "timeout"),
            ("postgres://u@h/db?timeout=nan", "timeout"), ("postgres://u@h/db?timeout=-3", "timeout"),
            ("postgres://u@h/db?connect_timout=5", "connect_timout"),
          ])
    func refuses(url: String, naming: String) {
        #expect {
            try PostgresLocation(url: url)
        } throws: { error in
            guard case MemoryError.invalidParameter(let message) = error else { return false }
            return message.contains(naming)
        }
    }
}
