import EngramTestSupport
import Testing
import EngramIndex
import Foundation

@Suite("Vector files")
struct VectorFileTests {
    let dir: String = {
        let d = scratchDirectory("vf")
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    @Test("fvecs and ivecs round trip")
    func roundTrip() throws {
        let m = TestData.random(count: 13, dimension: 5, seed: 3)
        try VectorFile.writeFvecs(m, to: dir + "/a.fvecs")
        #expect(try VectorFile.readFvecs(dir + "/a.fvecs") == m)
        let rows: [[Int32]] = [[1, 2, 3], [4, 5, 6]]
        try VectorFile.writeIvecs(rows, to: dir + "/a.ivecs")
        #expect(try VectorFile.readIvecs(dir + "/a.ivecs") == rows)
    }

    @Test("the shipped data reads with the documented shapes")
    func realFiles() throws {
        let base = try VectorFile.readFvecs(TestData.minilm + "/base.fvecs")
        #expect(base.count == 20_000 && base.dimension == 384)
        let truth = try VectorFile.readIvecs(TestData.minilm + "/groundtruth.ivecs")
        #expect(truth.count == 500 && truth[0].count == 100)
    }

    @Test("npy float32 2-D arrays are read, other dtypes rejected")
    func npy() throws {
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        try npyFile(descr: "<f4", shape: "(2, 3)", values).write(to: URL(fileURLWithPath: dir + "/a.npy"))
        let m = try VectorFile.readVectors(dir + "/a.npy")
        #expect(m.dimension == 3 && m.values == values)
        try npyFile(descr: "<f8", shape: "(2, 3)", values).write(to: URL(fileURLWithPath: dir + "/b.npy"))
        #expect(throws: EngramError.self) { try VectorFile.readNPY(dir + "/b.npy") }
        try npyFile(descr: "<f4", shape: "(3, 3)", values).write(to: URL(fileURLWithPath: dir + "/c.npy"))
        #expect(throws: EngramError.self) { try VectorFile.readNPY(dir + "/c.npy") }
        try npyFile(descr: "<f4", shape: "(6,)", values).write(to: URL(fileURLWithPath: dir + "/d.npy"))
        #expect(throws: EngramError.self) { try VectorFile.readNPY(dir + "/d.npy") }
        try Data("not numpy at all".utf8).write(to: URL(fileURLWithPath: dir + "/e.npy"))
        #expect(throws: EngramError.self) { try VectorFile.readNPY(dir + "/e.npy") }
    }

    @Test("malformed fvecs: truncated rows, inconsistent dimensions, empty files")
    func malformed() throws {
        let m = TestData.random(count: 3, dimension: 4, seed: 1)
        try VectorFile.writeFvecs(m, to: dir + "/ok.fvecs")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/ok.fvecs"))
        try bytes.prefix(bytes.count - 3).write(to: URL(fileURLWithPath: dir + "/trunc.fvecs"))
        #expect(throws: EngramError.self) { try VectorFile.readFvecs(dir + "/trunc.fvecs") }
        bytes[20] = 9  // row 1's dimension field
        try bytes.write(to: URL(fileURLWithPath: dir + "/dims.fvecs"))
        do {
            _ = try VectorFile.readFvecs(dir + "/dims.fvecs")
            Issue.record("expected an error")
        } catch let EngramError.malformedFile(_, reason) {
            #expect(reason.contains("row 1"))
        }
        try Data().write(to: URL(fileURLWithPath: dir + "/empty.fvecs"))
        #expect(throws: EngramError.self) { try VectorFile.readFvecs(dir + "/empty.fvecs") }
        #expect(throws: EngramError.self) { try VectorFile.readFvecs(dir + "/missing.fvecs") }
    }

    private func npyFile(descr: String, shape: String, _ values: [Float]) -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        data.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(Data(header.utf8))
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }
}
